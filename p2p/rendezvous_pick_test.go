package p2p

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/sparegpu/spare/internal/testenv"
)

func TestAddrGroup(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"/ip4/203.0.113.7/tcp/4001", "203.0.113.0/24"},
		{"/ip4/203.0.113.250/udp/4001/quic-v1", "203.0.113.0/24"},
		{"/ip4/192.168.1.20/tcp/4001", "192.168.1.20"},
		{"/ip4/127.0.0.9/tcp/1", "127.0.0.9"},
		{"/ip6/2001:db8:1:2::5/tcp/4001", "2001:db8:1::/48"},
		{"/ip6/fe80::1/tcp/4001", "fe80::1"},
		{"/dns4/relay.example/tcp/4001", "dns:relay.example"},
		{"/ip4/198.51.100.3/tcp/4001/p2p/12D3KooWGzkE6HhmHTPnJ3sFTxRA7zUSXZxkjiEfb2kxbUDyvomD/p2p-circuit", "198.51.100.0/24"},
	} {
		if got := addrGroup(multiaddr.StringCast(c.addr)); got != c.want {
			t.Errorf("addrGroup(%s) = %s, want %s", c.addr, got, c.want)
		}
	}
}

// TestPickRendezvous: many peer IDs in one subnet take rendezvousPerGroup
// places; a peer listing an address in a full group is passed over even
// when it lists others; skipped, repeated and address-less answers are
// not dialled; the total is bounded.
func TestPickRendezvous(t *testing.T) {
	var found []peer.AddrInfo
	id := func(i int) peer.ID { return peer.ID(fmt.Sprintf("peer-%03d", i)) }
	ai := func(i int, addrs ...string) peer.AddrInfo {
		pi := peer.AddrInfo{ID: id(i)}
		for _, a := range addrs {
			pi.Addrs = append(pi.Addrs, multiaddr.StringCast(a))
		}
		return pi
	}
	for i := range 50 { // a sybil farm in one /24
		found = append(found, ai(i, fmt.Sprintf("/ip4/203.0.113.%d/tcp/4001", i+1)))
	}
	found = append(found,
		ai(50, "/ip4/198.51.100.1/tcp/4001", "/ip4/203.0.113.200/tcp/4001"), // also in the farm's /24
		ai(51, "/ip4/198.51.100.2/tcp/4001"),
		ai(51, "/ip4/198.51.100.2/tcp/4001"), // the same answer twice
		ai(52),                               // no address
		ai(53, "/ip4/192.0.2.1/tcp/4001"),    // skipped: found not Spare
		ai(54, "/ip4/192.0.2.2/tcp/4001"),
	)
	skip := func(p peer.ID) bool { return p == id(53) }
	var got []peer.ID
	for _, pi := range pickRendezvous(found, skip, 2, 32) {
		got = append(got, pi.ID)
	}
	want := []peer.ID{id(0), id(1), id(51), id(54)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("picked %v, want %v", got, want)
	}
	var many []peer.AddrInfo
	for i := range 100 {
		many = append(many, ai(i, fmt.Sprintf("/ip4/10.0.%d.%d/tcp/1", i/200, i%200)))
	}
	if n := len(pickRendezvous(many, func(peer.ID) bool { return false }, 2, 32)); n != 32 {
		t.Fatalf("picked %d of 100 distinct peers, want the bound 32", n)
	}
}

// TestNotSpareBounded: the memory of peers found not Spare forgets after
// notSpareFor and never holds more than notSpareMax.
func TestNotSpareBounded(t *testing.T) {
	var s notSpare
	now := time.Unix(1_700_000_000, 0)
	for i := range notSpareMax + 100 {
		s.add(peer.ID(fmt.Sprint(i)), now)
	}
	if len(s.until) > notSpareMax {
		t.Fatalf("remembers %d peers, bound %d", len(s.until), notSpareMax)
	}
	last := peer.ID(fmt.Sprint(notSpareMax + 99))
	if !s.has(last, now.Add(time.Minute)) || s.has(last, now.Add(notSpareFor+time.Second)) {
		t.Fatal("the last peer added is not remembered for notSpareFor, or is remembered after it")
	}
}

// TestRendezvousEclipse (threat model N5): forty strangers on one machine
// publish rendezvous records for the public network's key beside one
// Spare provider. A fresh requester still finds the provider, dials at
// most rendezvousPerGroup of the strangers, and drops them: they speak no
// Spare protocol.
func TestRendezvousEclipse(t *testing.T) {
	fakePublicNetwork(t, 3)
	boot, err := publicBootstrap()
	if err != nil {
		t.Fatal(err)
	}
	key := RendezvousCID("spare/public")
	const sybils = 40
	var mu sync.Mutex
	dialledBy := map[peer.ID][]peer.ID{} // a stranger: who dialled it
	var wg sync.WaitGroup
	for range sybils {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.9/tcp/0"), libp2p.DisableMetrics())
		if err != nil {
			t.Fatal(err)
		}
		d, err := dht.New(h, dht.Mode(dht.ModeClient), dht.BootstrapPeers(boot...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close(); h.Close() })
		h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
			if c.Stat().Direction == network.DirInbound {
				mu.Lock()
				dialledBy[h.ID()] = append(dialledBy[h.ID()], c.RemotePeer())
				mu.Unlock()
			}
		}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range boot {
				_ = h.Connect(testCtx(t), b)
			}
			testenv.WaitFor(t, "a stranger's DHT routing table", testTimeout, func() bool { return d.RoutingTable().Size() > 0 })
			if err := d.Provide(testCtx(t), key, true); err != nil {
				t.Errorf("a stranger's rendezvous record: %v", err)
			}
		}()
	}
	wg.Wait()
	provider := publicHost(t, "")
	requester := publicHost(t, "")
	testenv.WaitFor(t, "the requester connected to the provider", testTimeout, func() bool { return connected(requester, provider) })
	var byRequester []peer.ID
	mu.Lock()
	for s, from := range dialledBy {
		if slices.Contains(from, requester.ID()) {
			byRequester = append(byRequester, s)
		}
	}
	mu.Unlock()
	if len(byRequester) > rendezvousPerGroup {
		t.Errorf("the requester dialled %d of %d strangers on one machine, want at most %d", len(byRequester), sybils, rendezvousPerGroup)
	}
	testenv.WaitFor(t, "the strangers the requester dialled dropped and remembered", testTimeout, func() bool {
		for _, s := range byRequester {
			if requester.LibP2P().Network().Connectedness(s) == network.Connected || !requester.notSpare.has(s, time.Now()) {
				return false
			}
		}
		return true
	})
}
