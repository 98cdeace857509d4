//go:build linux

package provider

import "time"

// setStreamLimits changes the job handler's limits. Call before Serve.
func (p *Provider) setStreamLimits(perPeer, total int, proposal, evictAfter time.Duration) {
	p.adm.limits = streamLimits{perPeer: perPeer, total: total, proposal: proposal, evictAfter: evictAfter}
}

// setFetchBound changes how long fetching a job's blobs may take: slack
// plus the declared size at rate bytes a second. Call before Serve.
func (p *Provider) setFetchBound(rate int64, slack time.Duration) {
	p.fetchRate, p.fetchSlack = rate, slack
}

// idle says no job holds the provider: the last session has closed,
// its directory removed and the cache swept.
func (p *Provider) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.reserved
}
