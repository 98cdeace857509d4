package p2p

import (
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/internal/testenv"
)

// fakePublicNetwork starts k plain libp2p hosts on loopback serving the
// Amino DHT (kad-dht's default protocol, server mode), connected to each
// other, and points PublicBootstrapEnv at them: the public libp2p network
// a fresh Spare node joins, without the real internet.
func fakePublicNetwork(t testing.TB, k int) {
	t.Helper()
	var addrs []string
	var infos []peer.AddrInfo
	for range k {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
		if err != nil {
			t.Fatal(err)
		}
		d, err := dht.New(h, dht.Mode(dht.ModeServer))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close(); h.Close() })
		for _, pi := range infos {
			if err := h.Connect(testCtx(t), pi); err != nil {
				t.Fatal(err)
			}
		}
		pi := peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
		infos = append(infos, pi)
		as, _ := peer.AddrInfoToP2pAddrs(&pi)
		for _, a := range as {
			addrs = append(addrs, a.String())
		}
	}
	t.Setenv(PublicBootstrapEnv, strings.Join(addrs, " "))
}

// publicHost starts a Spare host that joins the fake public network.
func publicHost(t *testing.T, pool string, allow ...peer.ID) *Host {
	t.Helper()
	h := newTestHost(t, Config{Public: true, Pool: pool, AllowPeers: allow})
	testenv.WaitFor(t, "the rendezvous record published", testTimeout, h.rendezvousPublished.Load)
	return h
}

func connected(a, b *Host) bool {
	return a.LibP2P().Network().Connectedness(b.ID()) == network.Connected
}

func holdsAdOf(h, author *Host) bool {
	for _, a := range h.CurrentAds() {
		if a.Peer == author.ID() {
			return true
		}
	}
	return false
}

// TestRendezvousFindsStrangers: two fresh Spare hosts that know only the
// public network's bootstrap peers (no Spare bootstrap node, no mDNS)
// find each other through the rendezvous record and one gets the
// other's ad.
func TestRendezvousFindsStrangers(t *testing.T) {
	fakePublicNetwork(t, 3)
	provider := publicHost(t, "")
	requester := publicHost(t, "")
	testenv.WaitFor(t, "the requester connected to the provider", testTimeout, func() bool { return connected(requester, provider) })
	if err := provider.PublishAd(testCtx(t), testAd("", time.Time{}, 0)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the provider's ad at the requester", testTimeout, func() bool { return holdsAdOf(requester, provider) })
	if requester.SparePeers() < 1 {
		t.Errorf("requester counts %d Spare peers, want the provider", requester.SparePeers())
	}
}

// TestPoolApart: a private pool beside the public network on the same
// public DHT: each finds its own, nobody sees the other network's ads,
// and a Spare node of the other network that connects anyway is cut off.
func TestPoolApart(t *testing.T) {
	fakePublicNetwork(t, 3)
	pubA, pubB := publicHost(t, ""), publicHost(t, "")
	poolA, poolB := publicHost(t, "studio"), publicHost(t, "studio")
	testenv.WaitFor(t, "each network's hosts connected", testTimeout, func() bool {
		return connected(pubA, pubB) && connected(poolA, poolB)
	})
	for _, h := range []*Host{pubA, poolA} {
		if err := h.PublishAd(testCtx(t), testAd("", time.Time{}, 0)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, "each network's ad delivered in it", testTimeout, func() bool {
		return holdsAdOf(pubB, pubA) && holdsAdOf(poolB, poolA)
	})
	// A public node dials a pool node directly (it learnt its address
	// somewhere): once identified, the connection is closed.
	_ = pubA.Connect(testCtx(t), poolA.AddrInfo())
	testenv.WaitFor(t, "the cross-network connection closed", testTimeout, func() bool {
		return !connected(pubA, poolA) && !connected(poolA, pubA)
	})
	for _, c := range []struct{ h, author *Host }{{pubB, poolA}, {pubA, poolA}, {poolB, pubA}, {poolA, pubA}} {
		if holdsAdOf(c.h, c.author) {
			t.Errorf("%s holds the ad of %s, of another network", c.h.ID(), c.author.ID())
		}
	}
	for _, c := range []struct{ h, other *Host }{{pubA, poolA}, {poolA, pubA}} {
		for _, pi := range c.h.BookPeers() {
			if pi.ID == c.other.ID() {
				t.Errorf("%s keeps %s of another network in its address book", c.h.ID(), c.other.ID())
			}
		}
	}
}

// TestPoolAllowList: a pool host with an allow-list refuses a Spare node
// of the same pool that is not on it, and keeps the one that is.
func TestPoolAllowList(t *testing.T) {
	friend := newTestHost(t, Config{Pool: "home"})
	stranger := newTestHost(t, Config{Pool: "home"})
	guarded := newTestHost(t, Config{Pool: "home", AllowPeers: []peer.ID{friend.ID()}})
	if err := friend.Connect(testCtx(t), guarded.AddrInfo()); err != nil {
		t.Fatalf("the friend refused: %v", err)
	}
	_ = stranger.Connect(testCtx(t), guarded.AddrInfo()) // refused by the gater as it is secured
	testenv.WaitFor(t, "the stranger refused", testTimeout, func() bool { return !connected(guarded, stranger) })
	// Dialling out to the stranger: closed once it identifies.
	_ = guarded.Connect(testCtx(t), stranger.AddrInfo())
	testenv.WaitFor(t, "the stranger cut off after dialling out", testTimeout, func() bool { return !connected(guarded, stranger) })
	if !connected(guarded, friend) {
		t.Error("the friend was cut off")
	}
}

// TestPoolName: pool names are bounded and plain.
func TestPoolName(t *testing.T) {
	for _, bad := range []string{strings.Repeat("a", MaxPoolName+1), "Studio", "a b", "x/../y", "naïve"} {
		if _, err := networkNames(bad); err == nil {
			t.Errorf("pool name %q accepted", bad)
		}
	}
	pub, _ := networkNames("")
	a, _ := networkNames("studio")
	b, _ := networkNames("studio2")
	if a.adsTopic == pub.adsTopic || a.dhtPrefix == pub.dhtPrefix || a.adsTopic == b.adsTopic || a.mdns == b.mdns || len(a.mdns) > len("_")+15+len("._udp") {
		t.Errorf("names not apart: %+v %+v %+v", pub, a, b)
	}
}
