package provider

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// streamLimits are the job handler's limits: the constants in provider.go,
// which tests may lower.
type streamLimits struct {
	perPeer, total int
	proposal       time.Duration // ProposalTimeout
	evictAfter     time.Duration // PendingEvictAfter
}

// StreamStats counts the job streams the handler admitted and refused.
type StreamStats struct {
	Open        int    // streams being served now
	Peak        int    // most served at once
	PeakPerPeer int    // most served at once for one peer
	Admitted    uint64 // streams served since start
	Refused     uint64 // streams reset at once: a limit was reached, or shutting down
	Evicted     uint64 // pending streams reset to admit a newer one when the total was full
}

// admission is one open job stream.
type admission struct {
	peer    peer.ID
	since   time.Time
	pending bool   // still waiting for a proposal or an agreement
	reset   func() // ends the stream; called when it is evicted
	counted bool   // still counted in the limits
}

// admissions is the job handler's bookkeeping of open streams: at most
// limits.perPeer per peer and limits.total in all. When the total is full,
// the oldest stream still waiting for its proposal or agreement, if it has
// waited evictAfter, is dropped for the newcomer: idle streams from many
// peers cannot lock requesters out until their deadlines. A stream past
// its agreement is never dropped. Not safe for concurrent use: the
// Provider holds its lock around every call.
type admissions struct {
	limits  streamLimits
	perPeer map[peer.ID]int
	open    map[*admission]struct{}
	stats   StreamStats
}

func newAdmissions(l streamLimits) admissions {
	return admissions{limits: l, perPeer: map[peer.ID]int{}, open: map[*admission]struct{}{}}
}

// admit counts a new stream from peer at now, or refuses it (nil). When
// it evicts another stream to make room, it returns that stream's reset,
// for the caller to run outside its lock.
func (a *admissions) admit(from peer.ID, now time.Time, reset func()) (*admission, func()) {
	if a.perPeer[from] >= a.limits.perPeer {
		a.stats.Refused++
		return nil, nil
	}
	var evict func()
	if len(a.open) >= a.limits.total {
		victim := a.oldestPending(now)
		if victim == nil {
			a.stats.Refused++
			return nil, nil
		}
		a.release(victim)
		a.stats.Evicted++
		evict = victim.reset
	}
	x := &admission{peer: from, since: now, pending: true, reset: reset, counted: true}
	a.open[x] = struct{}{}
	a.perPeer[from]++
	a.stats.Admitted++
	a.stats.Open = len(a.open)
	a.stats.Peak = max(a.stats.Peak, len(a.open))
	a.stats.PeakPerPeer = max(a.stats.PeakPerPeer, a.perPeer[from])
	return x, evict
}

// oldestPending is the longest-waiting pending stream that has waited
// evictAfter, or nil.
func (a *admissions) oldestPending(now time.Time) *admission {
	var old *admission
	for x := range a.open {
		if x.pending && now.Sub(x.since) >= a.limits.evictAfter && (old == nil || x.since.Before(old.since)) {
			old = x
		}
	}
	return old
}

// settle marks x past its agreement: it is never evicted.
func (a *admissions) settle(x *admission) { x.pending = false }

// release stops counting x; releasing twice (evicted, then ended) is a
// no-op.
func (a *admissions) release(x *admission) {
	if !x.counted {
		return
	}
	x.counted = false
	delete(a.open, x)
	if a.perPeer[x.peer]--; a.perPeer[x.peer] <= 0 {
		delete(a.perPeer, x.peer)
	}
	a.stats.Open = len(a.open)
}
