package provider

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/sandbox"
)

// Publish starts advertising (the governor says Available).
func (p *Provider) Publish(_ context.Context, gpus []string) error {
	p.mu.Lock()
	p.available, p.adGPUs = true, slices.Clone(gpus)
	p.mu.Unlock()
	p.wakeAds()
	return nil
}

// Withdraw stops advertising; the last ad expires within AdLifetime and
// proposals meanwhile are refused as busy or paused.
func (p *Provider) Withdraw(context.Context) error {
	p.mu.Lock()
	p.available = false
	p.mu.Unlock()
	return nil
}

func (p *Provider) wakeAds() {
	select {
	case p.adWake <- struct{}{}:
	default:
	}
}

// capability is the DHT key this provider is found under.
func (p *Provider) capability() string {
	if p.cfg.Capability != "" {
		return p.cfg.Capability
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.adGPUs {
		if g != node.CPUDeviceUUID {
			return "gpu:nvidia"
		}
	}
	return "cpu"
}

// ad is the current capacity ad, and whether one should go out.
func (p *Provider) ad(now time.Time) (p2p.Ad, bool) {
	p.mu.Lock()
	ok := p.available && !p.reserved
	p.mu.Unlock()
	if !ok {
		return p2p.Ad{}, false
	}
	st := p.d.Status()
	model := "CPU only"
	for _, d := range st.Devices {
		if d.Usable && d.UUID != node.CPUDeviceUUID {
			model = d.Name
			break
		}
	}
	pr := p.policy().Price
	per := max(pr.PerGPUSecond, pr.PerCPUSecond)
	if p.faults.AdPrice != nil {
		per = p.faults.AdPrice(per)
	} else {
		p.promise(per, now.Add(AdLifetime))
	}
	cpus, mem := offer(sandbox.LocalHost(), p.cfg.Reserve)
	return p2p.Ad{GPUModel: model, CPUs: uint32(cpus / 1000), RAMMiB: uint64(mem >> 20),
		PricePerSecond: per, Payee: p.me.Hex(),
		Capabilities: []string{p.capability()}, IssuedAt: now, ExpiresAt: now.Add(AdLifetime)}, true
}

// adLoop publishes the ad every AdEvery while available and at once
// when the governor publishes. (A requester that just joined asks this
// provider for its ad directly: publishing to the whole network for each
// newcomer made ad traffic grow with the number of requesters too.) The
// DHT provider record goes out once the provider is first available.
func (p *Provider) adLoop(ctx context.Context) {
	t := time.NewTicker(AdEvery)
	defer t.Stop()
	advertised := false
	dht := make(chan struct{})
	defer func() {
		if advertised {
			<-dht
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.adWake:
		case <-t.C:
		}
		ad, ok := p.ad(time.Now())
		if !ok {
			continue
		}
		if err := p.cfg.Host.PublishAd(ctx, ad); err != nil && !errors.Is(err, p2p.ErrRateLimited) && ctx.Err() == nil {
			p.log.Warn("publishing ad", "err", err)
		}
		if !advertised {
			advertised = true
			capName := ad.Capabilities[0]
			go func() {
				defer close(dht)
				if err := p.cfg.Host.Advertise(ctx, capName); err != nil && ctx.Err() == nil {
					p.log.Info("no DHT provider record (no DHT peers yet?)", "capability", capName, "err", err)
				}
			}()
		}
	}
}
