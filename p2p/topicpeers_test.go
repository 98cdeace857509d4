package p2p

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sparegpu/spare/internal/testenv"
)

// TestAdsReachEveryone: in a small network whose hosts know only the
// bootstrap node, an ad each host publishes as soon as it is up (before
// its ads mesh may have formed) reaches every other host, without flood
// publishing.
func TestAdsReachEveryone(t *testing.T) {
	const n = 8
	boot := newTestHost(t, Config{BootstrapNode: true})
	hosts := make([]*Host, n)
	for i := range hosts {
		hosts[i] = newTestHost(t, Config{Bootstrap: boot.Addrs()})
	}
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, h := range append(hosts, boot) {
		want := n
		if h != boot {
			want-- // not its own
		}
		testenv.WaitFor(t, fmt.Sprintf("%s holds %d ads", h.ID(), want), testTimeout, func() bool { return len(h.CurrentAds()) == want })
	}
}

// TestTopicPeersStayFew: hosts that know only the bootstrap node link to
// a few other subscribers each, not to every one the DHT names, and an
// ad still reaches them all.
func TestTopicPeersStayFew(t *testing.T) {
	// Forty: everyone linked to everyone would be 40 peers a host, well
	// above the bound below, and forty hosts on two loaded cores still
	// settle their meshes (eighty did not always, within 80 s).
	const n = 40
	boot := newTestHost(t, Config{BootstrapNode: true})
	hosts := make([]*Host, n)
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hosts[i] = newTestHost(t, Config{Bootstrap: boot.Addrs()})
		}()
	}
	wg.Wait()
	// Forty hosts joining at once: one pruned from a full mesh may rejoin
	// those peers only after GossipSub's prune back-off (a minute), so on
	// a loaded machine the last one can take that long (one host waited
	// past 20 s under stress-ng).
	meshTimeout := pubsub.GossipSubPruneBackoff + testTimeout
	for _, h := range hosts {
		testenv.WaitFor(t, fmt.Sprintf("%s has joined the ads mesh", h.ID()), meshTimeout, func() bool {
			mesh, _, _ := h.trace.state()
			return len(mesh) >= 1 // in the mesh: the ad reaches it by mesh or gossip
		})
	}
	ctx := testCtx(t)
	if err := hosts[0].PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts[1:] {
		testenv.WaitFor(t, fmt.Sprintf("%s holds the ad", h.ID()), meshTimeout, func() bool { return len(h.CurrentAds()) == 1 })
	}
	links := 0
	for _, h := range hosts {
		links += len(h.Peers())
	}
	// Everyone linked to everyone would be n per host; the sample keeps
	// about AdsTopicPeers subscribers, dialled or dialling, plus the
	// bootstrap node and peers it named in peer exchange.
	if mean := float64(links) / n; mean > 3*AdsTopicPeers {
		t.Fatalf("hosts have %.1f peers on average, want at most %d", mean, 3*AdsTopicPeers)
	} else {
		t.Logf("%.1f peers per host on average among %d", mean, n)
	}
}

// TestAdRightAfterConnect: an ad published the moment two hosts connect,
// before either has grafted the other into its ads mesh, still arrives
// (PublishAd waits for the mesh instead of flooding).
func TestAdRightAfterConnect(t *testing.T) {
	a := newTestHost(t, Config{})
	b := newTestHost(t, Config{})
	ctx := testCtx(t)
	ads := b.Ads(ctx)
	connect(t, a, b)
	if err := a.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
		t.Fatal(err)
	}
	if got := recvAd(t, ads); got.Peer != a.ID() {
		t.Fatalf("got an ad of %s, want %s", got.Peer, a.ID())
	}
}

// fakeDiscovery names a fixed list of peers, as the DHT would.
type fakeDiscovery struct {
	peers []peer.AddrInfo
	limit int
}

func (f *fakeDiscovery) Advertise(context.Context, string, ...discovery.Option) (time.Duration, error) {
	return time.Hour, nil
}

func (f *fakeDiscovery) FindPeers(_ context.Context, _ string, opts ...discovery.Option) (<-chan peer.AddrInfo, error) {
	var o discovery.Options
	if err := o.Apply(opts...); err != nil {
		return nil, err
	}
	f.limit = o.Limit
	ch := make(chan peer.AddrInfo, len(f.peers))
	for _, p := range f.peers {
		ch <- p
	}
	close(ch)
	return ch, nil
}

// TestSampledDiscovery: GossipSub is handed at most AdsTopicPeers of the
// subscribers the DHT names, never this host, the unconnected ones first
// but only as many as are missing to AdsTopicPeers connected, and in a
// different order from one round to the next.
func TestSampledDiscovery(t *testing.T) {
	self := newPeerID(t)
	var all []peer.AddrInfo
	connected := map[peer.ID]bool{}
	for i := range 40 {
		id := newPeerID(t)
		all = append(all, peer.AddrInfo{ID: id})
		if i%2 == 0 && i < 6 {
			connected[id] = true // 0, 2, 4
		}
	}
	all = append(all, peer.AddrInfo{ID: self})
	f := &fakeDiscovery{peers: all}
	d := sampledDiscovery{Discovery: f, self: self, want: AdsTopicPeers, connected: func(p peer.ID) bool { return connected[p] }}
	round := func() []peer.ID {
		ch, err := d.FindPeers(testCtx(t), AdsTopic)
		if err != nil {
			t.Fatal(err)
		}
		var got []peer.ID
		fresh := 0
		for pi := range ch {
			if pi.ID == self {
				t.Fatal("handed this host itself")
			}
			if !connected[pi.ID] {
				fresh++
			}
			got = append(got, pi.ID)
		}
		if len(got) != AdsTopicPeers || fresh != AdsTopicPeers-3 {
			t.Fatalf("handed %d peers, %d of them unconnected; want %d and %d", len(got), fresh, AdsTopicPeers, AdsTopicPeers-3)
		}
		return got
	}
	if first, second := round(), round(); fmt.Sprint(first) == fmt.Sprint(second) {
		t.Fatalf("two rounds handed the same peers in the same order: %v", first)
	}
	if f.limit != adsTopicCandidates {
		t.Fatalf("asked the DHT for %d peers, want %d", f.limit, adsTopicCandidates)
	}

	// Enough subscribers connected already: nobody new.
	for _, pi := range all[6:20] {
		connected[pi.ID] = true
	}
	ch, err := d.FindPeers(testCtx(t), AdsTopic)
	if err != nil {
		t.Fatal(err)
	}
	for pi := range ch {
		if !connected[pi.ID] {
			t.Fatalf("handed unconnected %s with %d subscribers connected", pi.ID, AdsTopicPeers+9)
		}
	}
	for _, pi := range all[6:20] {
		delete(connected, pi.ID)
	}

	// Fewer subscribers than wanted: all are handed on, connected ones
	// too (GossipSub may not know them as topic peers yet), after the
	// unconnected one.
	f.peers = all[:3] // 0 and 2 connected
	ch, err = d.FindPeers(testCtx(t), AdsTopic)
	if err != nil {
		t.Fatal(err)
	}
	var got []peer.ID
	for pi := range ch {
		got = append(got, pi.ID)
	}
	if len(got) != 3 || got[0] != all[1].ID {
		t.Fatalf("with 3 peers named (1 unconnected), handed %v, want %s first", got, all[1].ID)
	}
}
