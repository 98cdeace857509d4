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
// each time it is applied.
type ownerRelay struct {
	h       *p2p.Host
	metered func(context.Context) (bool, error)
	log     *slog.Logger

	mu               sync.Mutex
	allowed, onMeter bool
}

var _ node.Relay = (*ownerRelay)(nil)

func (r *ownerRelay) SetRelay(allowed bool) {
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
