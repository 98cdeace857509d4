package market

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/p2p"
)

// discoverHost is a loopback host for the discovery tests.
func discoverHost(t *testing.T) *p2p.Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := p2p.New(ctx, p2p.Config{LoopbackOnly: true, Logger: benchLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func discoverSpec(t *testing.T) *JobSpec {
	t.Helper()
	spec := &JobSpec{
		Kind: KindInference, Image: Image{Digest: digestA, Size: 1 << 20, Blob: true},
		Command: []string{"true"}, Resources: Resources{GPUs: 1, VRAM: 4 << 30, CPUs: 2000, Memory: 4 << 30}, MaxPrice: 1000,
	}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	return spec
}

// serveAd makes h answer ad queries with provider i's ad of benchAd after
// delay, or "unavailable" while away is set.
func serveAd(h *p2p.Host, i int, delay time.Duration, away *atomic.Bool) {
	ServeAds(h, func(now time.Time) (p2p.Ad, bool) {
		time.Sleep(delay)
		if away != nil && away.Load() {
			return p2p.Ad{}, false
		}
		a := benchAd(i)
		a.IssuedAt, a.ExpiresAt = now, now.Add(p2p.DefaultAdLifetime)
		return a, true
	})
}

// TestDiscoverWaitsForSlowAnswers: the cheapest provider answers its ad
// query after settleDiscover has passed; the match still sees it and
// ranks it first, because discovery waits for queries in flight.
func TestDiscoverWaitsForSlowAnswers(t *testing.T) {
	r := &Requester{Host: discoverHost(t), Trust: NewMemTrust(), Log: benchLog}
	cheap, dear := discoverHost(t), discoverHost(t)
	const slow = 3 * settleDiscover
	serveAd(cheap, 0, slow, nil)
	serveAd(dear, 50, 0, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, p := range []*p2p.Host{cheap, dear} {
		if err := r.Host.Connect(ctx, p.AddrInfo()); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	ads, ranked, err := r.discover(ctx, discoverSpec(t), 1, SubmitOptions{Discovery: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(ads) != 2 || ranked[0].Peer != cheap.ID().String() {
		t.Fatalf("after %s: %d ads, first ranked %s; want 2 ads and %s first", time.Since(start), len(ads), ranked[0].Peer, cheap.ID())
	}
}

// TestDiscoverDropsWithdrawnAd: a provider whose ad the requester heard by
// gossip but which now answers "unavailable" is not matched. (Two
// replicas are asked for, so the one gossip ad is not enough to return
// at once without asking anyone.)
func TestDiscoverDropsWithdrawnAd(t *testing.T) {
	r := &Requester{Host: discoverHost(t), Trust: NewMemTrust(), Log: benchLog}
	gone, there := discoverHost(t), discoverHost(t)
	var away atomic.Bool
	serveAd(gone, 0, 0, &away)
	serveAd(there, 50, 0, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, p := range []*p2p.Host{gone, there} {
		if err := r.Host.Connect(ctx, p.AddrInfo()); err != nil {
			t.Fatal(err)
		}
	}
	if err := gone.PublishAd(ctx, benchAd(0)); err != nil {
		t.Fatal(err)
	}
	for len(r.Host.CurrentAds()) == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the gossip ad never arrived")
		case <-time.After(20 * time.Millisecond):
		}
	}
	away.Store(true)
	ads, ranked, err := r.discover(ctx, discoverSpec(t), 2, SubmitOptions{Discovery: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ads[gone.ID().String()]; ok || len(ranked) != 1 || ranked[0].Peer != there.ID().String() {
		t.Fatalf("withdrawn provider still offered: %d ads, ranked %v", len(ads), peers(ranked))
	}
}

// TestFreshRequesterAsksBeforeMatching: a requester that has heard one
// provider's ad by gossip since it connected, but not yet asked its
// peers, does not match on that ad alone: the cheaper provider it is
// connected to, whose ad gossip has not brought, is asked and ranked
// first. (It matched at once on the gossip ad, and so a bait provider
// was sometimes never tried in provider.TestBaitAndSwitch.)
func TestFreshRequesterAsksBeforeMatching(t *testing.T) {
	r := &Requester{Host: discoverHost(t), Trust: NewMemTrust(), Log: benchLog}
	cheap, dear := discoverHost(t), discoverHost(t)
	serveAd(cheap, 0, 0, nil)
	serveAd(dear, 50, 0, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, p := range []*p2p.Host{cheap, dear} {
		if err := r.Host.Connect(ctx, p.AddrInfo()); err != nil {
			t.Fatal(err)
		}
	}
	if err := dear.PublishAd(ctx, benchAd(50)); err != nil {
		t.Fatal(err)
	}
	for len(r.Host.CurrentAds()) == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the gossip ad never arrived")
		case <-time.After(20 * time.Millisecond):
		}
	}
	ads, ranked, err := r.discover(ctx, discoverSpec(t), 1, SubmitOptions{Discovery: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(ads) != 2 || ranked[0].Peer != cheap.ID().String() {
		t.Fatalf("%d ads, ranked %v; want both ads and %s first", len(ads), peers(ranked), cheap.ID())
	}
}

// TestDiscoverRemembersAskedAds: a long-running requester keeps the ads
// it heard by asking, so its next discovery matches at once instead of
// asking again (the provider answers slowly here: a new question would
// take seconds). A provider that says it takes no work is forgotten.
func TestDiscoverRemembersAskedAds(t *testing.T) {
	r := &Requester{Host: discoverHost(t), Trust: NewMemTrust(), Log: benchLog}
	prov := discoverHost(t)
	const slow = 3 * time.Second
	serveAd(prov, 0, slow, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Host.Connect(ctx, prov.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	spec := discoverSpec(t)
	if _, ranked, err := r.discover(ctx, spec, 1, SubmitOptions{Discovery: 10 * time.Second}); err != nil || len(ranked) != 1 {
		t.Fatalf("first discovery: %v, %d ranked", err, len(ranked))
	}
	start := time.Now()
	_, ranked, err := r.discover(ctx, spec, 1, SubmitOptions{Discovery: 10 * time.Second})
	if took := time.Since(start); err != nil || len(ranked) != 1 || ranked[0].Peer != prov.ID().String() || took >= slow {
		t.Fatalf("second discovery after %v: %v, ranked %v; want %s at once", took, err, peers(ranked), prov.ID())
	}
	r.known.put(prov.ID().String(), p2p.Ad{}, true, time.Now())
	if n := len(r.known.live(time.Now())); n != 0 {
		t.Fatalf("%d ads remembered after the provider said it takes no work", n)
	}
}

func TestKnownAdsExpireAndStayBounded(t *testing.T) {
	var k knownAds
	now := time.Now()
	ad := func(i int, life time.Duration) p2p.Ad {
		a := benchAd(i)
		a.Peer = peer.ID("provider-" + strconv.Itoa(i))
		a.IssuedAt, a.ExpiresAt = now, now.Add(life)
		return a
	}
	k.put("old", ad(0, time.Second), false, now)
	for i := range maxKnownAds - 1 {
		k.put(string(rune('a'+i%26))+strconv.Itoa(i), ad(i, time.Hour), false, now)
	}
	k.put("new", ad(1, time.Hour), false, now.Add(2*time.Second)) // "old" has expired: room for it
	live := k.live(now.Add(2 * time.Second))
	if _, ok := live["old"]; ok || len(live) != maxKnownAds {
		t.Fatalf("%d live ads, old kept %v; want the expired one gone and %d", len(live), ok, maxKnownAds)
	}
	k.put("full", ad(2, time.Hour), false, now.Add(2*time.Second))
	if _, ok := k.live(now.Add(2 * time.Second))["full"]; ok {
		t.Fatal("an ad was remembered past the bound")
	}
}
