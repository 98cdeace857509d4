//go:build linux

package provider

import (
	"time"

	"github.com/sparegpu/spare/market"
)

// lieAboutOutputs makes p rewrite every output file before hashing and
// serving it: a provider returning wrong results. Call before Serve.
func (p *Provider) lieAboutOutputs(f func(path string) error) { p.tamper = f }

// setStreamLimits changes the job handler's limits. Call before Serve.
func (p *Provider) setStreamLimits(perPeer, total int, proposal, evictAfter time.Duration) {
	p.adm.limits = streamLimits{perPeer: perPeer, total: total, proposal: proposal, evictAfter: evictAfter}
}

// setFetchBound changes how long fetching a job's blobs may take: slack
// plus the declared size at rate bytes a second. Call before Serve.
func (p *Provider) setFetchBound(rate int64, slack time.Duration) {
	p.fetchRate, p.fetchSlack = rate, slack
}

// nameOutputs makes p replace the output list of its jobs' Results with
// f's before sending them: a provider naming the paths the requester
// writes. Call before Serve.
func (p *Provider) nameOutputs(f func([]market.Output) []market.Output) { p.renameOutputs = f }

// baitWith makes p's ads say f(the price it quotes): a provider that
// advertises cheap and quotes dear. Call before Serve.
func (p *Provider) baitWith(f func(quoted uint64) uint64) { p.adPrice = f }

// idle says no job holds the provider: the last session has closed,
// its directory removed and the cache swept.
func (p *Provider) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.reserved
}
