package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
)

// meteredWait bounds the question to NetworkManager whether the
// connection is metered.
const meteredWait = 2 * time.Second

// ownerRelay is the p2p host's volunteer relay as the daemon drives it
// (node.Relay): the owner's consent, read against a metered connection
// each time it is applied and each time NetworkManager says the
// connection changed (Serve).
type ownerRelay struct {
	h       *p2p.Host
	metered func(context.Context) (bool, error)
	// watch calls its function with the connection's metered state each
	// time it changes, until ctx ends (watchMetered); nil: read only when
	// the setting is applied.
	watch func(ctx context.Context, changed func(metered bool)) error
	log   *slog.Logger

	apply            sync.Mutex // one change of the host's relay at a time
	mu               sync.Mutex
	allowed, onMeter bool
}

var _ node.Relay = (*ownerRelay)(nil)

func (r *ownerRelay) SetRelay(allowed bool) {
	r.apply.Lock()
	defer r.apply.Unlock()
	metered := false
	if allowed {
		ctx, cancel := context.WithTimeout(context.Background(), meteredWait)
		m, err := r.metered(ctx)
		cancel()
		if err != nil {
			r.log.Debug("metered connection unknown; relaying as allowed", "err", err)
		}
		if metered = m; metered {
			r.log.Info("not relaying for other nodes: the connection is metered")
		}
	}
	r.h.SetRelay(p2p.RelayWanted(allowed, metered))
	r.mu.Lock()
	r.allowed, r.onMeter = allowed, metered
	r.mu.Unlock()
}

// Serve follows the connection's metered state while the node runs: the
// relay stops when the connection becomes metered and starts again when
// it no longer is, as far as the owner allows it. Without NetworkManager
// it returns at once, the relay following the state read when the
// setting was applied.
func (r *ownerRelay) Serve(ctx context.Context) {
	if r.watch == nil {
		return
	}
	if err := r.watch(ctx, r.meteredChanged); err != nil && ctx.Err() == nil {
		r.log.Debug("metered connection not watched; the relay follows the state read when the setting was applied", "err", err)
	}
}

func (r *ownerRelay) meteredChanged(metered bool) {
	r.apply.Lock()
	defer r.apply.Unlock()
	r.mu.Lock()
	allowed, was := r.allowed, r.onMeter
	if allowed {
		r.onMeter = metered
	}
	r.mu.Unlock()
	if !allowed || metered == was {
		return
	}
	r.h.SetRelay(p2p.RelayWanted(true, metered))
	if metered {
		r.log.Info("not relaying for other nodes any more: the connection became metered")
	} else {
		r.log.Info("relaying for other nodes again: the connection is no longer metered")
	}
}

func (r *ownerRelay) DescribeRelay(s *localapi.Status) {
	r.mu.Lock()
	allowed, metered := r.allowed, r.onMeter
	r.mu.Unlock()
	st := r.h.Relay()
	switch {
	case !allowed:
		s.Relay = localapi.RelayOff
	case metered:
		s.Relay = localapi.RelayMetered
	case st.Serving:
		s.Relay, s.RelayNodes, s.RelayCircuits = localapi.RelayServing, st.Reservations, st.Circuits
	default:
		s.Relay = localapi.RelayWaiting
	}
}
