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

// nameOutputs makes p replace the output list of its jobs' Results with
// f's before sending them: a provider naming the paths the requester
// writes. Call before Serve.
func (p *Provider) nameOutputs(f func([]market.Output) []market.Output) { p.renameOutputs = f }
