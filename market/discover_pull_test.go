package market

import (
	"context"
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"

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

// TestDiscoverThroughVolunteer: a pull-only requester that knows only a
// bootstrap node hears, in one batch from a volunteer it finds in the
// DHT (p2p.VolunteerCapability), the ads of providers it could not
// otherwise find: they gossip on the ads topic but hold no DHT record of
// their capability and answer no ad query. It ranks the cheapest first,
// and its host holds the ads (their reachability matters to a job).
func TestDiscoverThroughVolunteer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	newHost := func(cfg p2p.Config) *p2p.Host {
		cfg.LoopbackOnly, cfg.Logger = true, benchLog
		h, err := p2p.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	boot := newHost(p2p.Config{BootstrapNode: true})
	vol := newHost(p2p.Config{Bootstrap: boot.Addrs()})
	heard := vol.Ads(ctx)
	var providers []*p2p.Host
	for _, price := range []int{30, 0, 60} {
		p := newHost(p2p.Config{Bootstrap: []multiaddr.Multiaddr{vol.Addrs()[0]}})
		ad := benchAd(price)
		if err := p.PublishAd(ctx, ad); err != nil {
			t.Fatal(err)
		}
		providers = append(providers, p)
	}
	for len(vol.CurrentAds()) < len(providers) {
		select {
		case <-heard:
		case <-ctx.Done():
			t.Fatalf("the volunteer heard %d of the %d ads", len(vol.CurrentAds()), len(providers))
		}
	}
	if err := vol.VolunteerAds(ctx); err != nil {
		t.Fatal(err)
	}
	r := &Requester{Host: newHost(p2p.Config{Bootstrap: boot.Addrs(), PullAds: true}), Trust: NewMemTrust(), Log: benchLog}
	ads, ranked, err := r.discover(ctx, discoverSpec(t), 3, SubmitOptions{Capability: "gpu:nvidia", Discovery: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(ads) != 3 || len(ranked) != 3 || ranked[0].Peer != providers[1].ID().String() {
		t.Fatalf("%d ads, ranked %v; want the 3 providers, %s first", len(ads), ranked, providers[1].ID())
	}
	if n := len(r.Host.CurrentAds()); n != 3 {
		t.Fatalf("the requester's host holds %d of the 3 ads from the batch", n)
	}
}
