package market

import (
	"context"
	"testing"
	"time"

	"github.com/sparegpu/spare/p2p"
)

// TestDiscoverPullOnly: home nodes off the ads topic (p2p.Config.PullAds).
// Three providers and a requester know only a bootstrap node; none of
// them carries the ads topic, so no ad travels by gossip, and yet the
// requester finds all three by the DHT lookup of their capability and a
// direct query, and ranks the cheapest first.
func TestDiscoverPullOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pullHost := func(cfg p2p.Config) *p2p.Host {
		cfg.LoopbackOnly, cfg.Logger = true, benchLog
		h, err := p2p.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	boot := pullHost(p2p.Config{BootstrapNode: true})
	var providers []*p2p.Host
	for i, price := range []int{30, 0, 60} {
		p := pullHost(p2p.Config{Bootstrap: boot.Addrs(), PullAds: true})
		serveAd(p, price, 0, nil)
		if err := p.PublishAd(ctx, benchAd(price)); err != nil {
			t.Fatalf("provider %d publishes off the topic: %v", i, err)
		}
		if err := p.Advertise(ctx, "gpu:nvidia"); err != nil {
			t.Fatal(err)
		}
		providers = append(providers, p)
	}
	r := &Requester{Host: pullHost(p2p.Config{Bootstrap: boot.Addrs(), PullAds: true}), Trust: NewMemTrust(), Log: benchLog}
	for _, h := range append([]*p2p.Host{r.Host, boot}, providers...) {
		if n := len(h.CurrentAds()); n != 0 {
			t.Fatalf("a host holds %d ads heard by gossip; none should travel", n)
		}
	}
	ads, ranked, err := r.discover(ctx, discoverSpec(t), 3, SubmitOptions{Capability: "gpu:nvidia", Discovery: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(ads) != 3 || len(ranked) == 0 || ranked[0].Peer != providers[1].ID().String() {
		t.Fatalf("%d ads, ranked %v; want the 3 providers, %s first", len(ads), ranked, providers[1].ID())
	}
	// The ads it asked for are the host's too: what they say of each
	// provider's reachability decides a stream's early refusal
	// (p2p.Host.NewDirectStream), which a pull-only host learns no other way.
	if n := len(r.Host.CurrentAds()); n != 3 {
		t.Fatalf("the requester's host holds %d of the 3 ads it asked for", n)
	}
}
