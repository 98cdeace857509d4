package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// SetTerms applies the owner's price floor (nil: the configured price)
// and allowed workload kinds (empty: any) to quotes and ads from now on.
// A job already agreed keeps its terms.
func (p *Provider) SetTerms(price *market.Price, kinds []market.Kind) {
	p.mu.Lock()
	p.price = price
	p.kinds = append([]market.Kind(nil), kinds...)
	p.mu.Unlock()
	p.wakeAds()
}

// SetCostFloor applies the owner's "never work at a loss" floor (zero:
// none): ads and quotes ask at least it, and a job that pays less is
// refused (market.RefuseBelowCost).
func (p *Provider) SetCostFloor(floor market.Price) {
	p.mu.Lock()
	changed := p.floor != floor
	p.floor = floor
	p.mu.Unlock()
	if changed {
		p.wakeAds()
	}
}

// policy is the owner's terms now: the price is at least the cost floor.
func (p *Provider) policy() market.Policy {
	p.mu.Lock()
	defer p.mu.Unlock()
	pol := p.cfg.Policy
	if p.price != nil {
		pol.Price = *p.price
	}
	pol.CostFloor = p.floor
	pol.Price = pol.Price.AtLeast(p.floor)
	if p.kinds != nil {
		pol.Kinds = append([]market.Kind(nil), p.kinds...)
	}
	return pol
}

// quotePolicy is the policy quotes are given under at now: the owner's
// terms, at no more than any ad of this provider still valid promised
// (an ad's price is a commitment for its lifetime: a requester refuses a
// quote above the ad it chose by, so a price raised by the owner holds
// for new ads at once and for quotes once the cheaper ads expire).
func (p *Provider) quotePolicy(now time.Time) market.Policy {
	pol := p.policy()
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.promised[:0]
	for _, c := range p.promised {
		if now.Before(c.until) {
			kept = append(kept, c)
			pol.Price.PerGPUSecond = min(pol.Price.PerGPUSecond, c.perSecond)
			pol.Price.PerCPUSecond = min(pol.Price.PerCPUSecond, c.perSecond)
		}
	}
	p.promised = kept
	return pol
}

// belowCostWindow is how long a refusal below the cost floor is told in
// the status; maxBelowCost bounds the times kept.
const (
	belowCostWindow = time.Hour
	maxBelowCost    = 1000
)

// noteBelowCost counts a job refused below the cost floor at now.
func (p *Provider) noteBelowCost(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.belowCost = append(p.recentBelowCost(now), now)
	if len(p.belowCost) > maxBelowCost {
		p.belowCost = p.belowCost[len(p.belowCost)-maxBelowCost:]
	}
}

// recentBelowCost is the refusals of the last belowCostWindow (under mu).
func (p *Provider) recentBelowCost(now time.Time) []time.Time {
	i := 0
	for i < len(p.belowCost) && now.Sub(p.belowCost[i]) > belowCostWindow {
		i++
	}
	p.belowCost = p.belowCost[i:]
	return p.belowCost
}

// belowCostLine says how many jobs the last hour were refused below the
// cost floor, and the floor ("" when none).
func (p *Provider) belowCostLine(now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.recentBelowCost(now))
	if n == 0 {
		return ""
	}
	jobs := "1 job"
	if n > 1 {
		jobs = fmt.Sprintf("%d jobs", n)
	}
	return fmt.Sprintf("Never at a loss: refused %s in the last hour that paid less than the electricity (at least %s per GPU-hour, %s per core-hour).",
		jobs, localapi.Amount(p.floor.PerGPUSecond*3600), localapi.Amount(p.floor.PerCPUSecond*3600))
}

// promise records an ad's price until the ad expires. The list stays
// short: an ad goes out every AdEvery, or when something changes.
func (p *Provider) promise(perSecond uint64, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.promised); n > 0 && p.promised[n-1].perSecond == perSecond {
		if until.After(p.promised[n-1].until) {
			p.promised[n-1].until = until
		}
		return
	}
	p.promised = append(p.promised, promise{perSecond: perSecond, until: until})
	if len(p.promised) > maxPromises {
		p.promised = p.promised[len(p.promised)-maxPromises:]
	}
}

// maxPromises bounds the prices remembered from recent ads.
const maxPromises = 64

// promise is a price an ad gave, and until when.
type promise struct {
	perSecond uint64
	until     time.Time
}

// jobMeta is what the market knows of a job the daemon runs.
type jobMeta struct {
	kind      market.Kind
	requester peer.ID
	agreement common.Hash
}

// track remembers a job's market side while it runs (untrack forgets it).
func (p *Provider) track(id string, m jobMeta) {
	p.mu.Lock()
	if p.jobMeta == nil {
		p.jobMeta = map[string]jobMeta{}
	}
	p.jobMeta[id] = m
	p.mu.Unlock()
}

func (p *Provider) untrack(id string) {
	p.mu.Lock()
	delete(p.jobMeta, id)
	p.mu.Unlock()
}

// DescribeJob gives a running job's kind, requester and earnings so far.
func (p *Provider) DescribeJob(ctx context.Context, id string) (localapi.Job, bool) {
	p.mu.Lock()
	m, ok := p.jobMeta[id]
	p.mu.Unlock()
	if !ok {
		return localapi.Job{}, false
	}
	j := localapi.Job{ID: id, Kind: string(m.kind), Requester: shortPeerID(m.requester)}
	if earned, err := p.cfg.Wallet.Ledger.EarnedFor(ctx, m.agreement); err == nil {
		j.Earned = localapi.Amount(earned)
	} else {
		p.log.Warn("reading a job's earnings", "job", id, "err", err)
	}
	return j, true
}

// shortPeerID is a peer ID as people compare them: its last 8 characters.
func shortPeerID(id peer.ID) string {
	s := id.String()
	if len(s) > 12 {
		return "…" + s[len(s)-8:]
	}
	return s
}
