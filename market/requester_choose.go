package market

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet"
)

// originDialTimeout bounds connecting to a chosen provider to learn its
// network origin before anything is proposed.
const originDialTimeout = 15 * time.Second

// How a replica finds its providers.
type choice int

const (
	// byRank takes the best-ranked untried provider (Rank: price,
	// latency, trust): the one run of an ordinary job.
	byRank choice = iota
	// byDraw draws one at random weighted by trust (ChooseReplicas):
	// every replica of a replicated job, and a spot check's second run.
	byDraw
)

// newRand returns a generator seeded from crypto/rand: a provider cannot
// predict the draws.
func newRand() *rand.Rand {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return rand.New(rand.NewChaCha8(seed))
}

// drawUint64 is one draw of x's generator.
func (x *submission) drawUint64() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.rng.Uint64()
}

// originsOf are the origins of the requester's open connections to id.
func (r *Requester) originsOf(id peer.ID) []Origin {
	conns := r.Host.LibP2P().Network().ConnsToPeer(id)
	addrs := make([]multiaddr.Multiaddr, 0, len(conns))
	for _, c := range conns {
		addrs = append(addrs, c.RemoteMultiaddr())
	}
	return OriginsOf(addrs)
}

// candidateLocked picks the provider for a replica's next attempt, as how
// says, from the untried ones whose known origins no running replica
// holds. x.mu is held.
func (x *submission) candidateLocked(how choice) (Candidate, bool) {
	for i := range x.ranked {
		c := &x.ranked[i]
		if id, err := peer.Decode(c.Peer); err == nil {
			c.Origins = x.r.originsOf(id)
		}
	}
	if how == byDraw {
		cs, err := ChooseReplicas(x.ranked, 1, x.tried, x.claimed, time.Now(), x.rng)
		if err != nil {
			x.r.Log.Debug("drawing a provider", "err", err)
			return Candidate{}, false
		}
		return cs[0], true
	}
	for _, c := range x.ranked {
		if !x.tried[c.Peer] && !sharesOrigin(c.Origins, x.claimed) {
			return c, true
		}
	}
	return Candidate{}, false
}

// next picks the provider for a replica's next attempt (see choice),
// connects to it and claims its network origins for the replica: a
// provider whose connection turns out to come from an origin another
// replica holds is passed over. When no provider is left and rediscover
// is set, it first looks for more (for up to the discovery time),
// clearing rediscover.
func (x *submission) next(ctx context.Context, rediscover *bool, how choice) (Candidate, p2p.Ad, bool) {
	for ctx.Err() == nil {
		x.mu.Lock()
		c, ok := x.candidateLocked(how)
		if !ok && *rediscover {
			*rediscover = false
			want := len(x.tried) + 1
			x.mu.Unlock()
			x.r.Log.Info("every provider found was tried; looking for more")
			ads, _, derr := x.r.discover(ctx, x.spec, want, x.opt)
			x.mu.Lock()
			if derr == nil {
				for id, a := range ads {
					x.ads[id] = a
				}
				x.ranked = Rank(x.spec, offersOf(x.ads), x.r.Trust.Trust, time.Now())
			}
			c, ok = x.candidateLocked(how)
		}
		if !ok {
			x.mu.Unlock()
			return Candidate{}, p2p.Ad{}, false
		}
		x.tried[c.Peer] = true
		ad := x.ads[c.Peer]
		x.mu.Unlock()

		// Learn the origin from a connection before proposing anything:
		// the addresses a peer announces are its own say-so.
		dctx, cancel := context.WithTimeout(ctx, originDialTimeout)
		_, err := x.r.Host.LibP2P().Network().DialPeer(dctx, ad.Peer)
		cancel()
		if err != nil {
			// The attempt fails on it and says why; no origin is claimed.
			c.Origins = nil
			return c, ad, true
		}
		origins := x.r.originsOf(ad.Peer)
		x.mu.Lock()
		if sharesOrigin(origins, x.claimed) {
			x.mu.Unlock()
			x.r.Log.Info("passing over a provider from the network origin of another replica", "provider", c.Peer, "origins", origins)
			continue
		}
		for _, o := range origins {
			x.claimed[o] = true
		}
		x.mu.Unlock()
		c.Origins = origins
		return c, ad, true
	}
	return Candidate{}, p2p.Ad{}, false
}

// replica runs the job on one provider after another, chosen as how
// says, until one returns a result or the attempts run out. first, when
// set, is the first attempt's provider, already picked by next.
func (x *submission) replica(ctx context.Context, how choice, first *picked) replicaOutcome {
	var o replicaOutcome
	var last error
	// A reschedule after a lost provider may look for more providers, once.
	rediscover, looked := false, false
	for o.attempts < x.opt.MaxAttempts {
		var p picked
		if first != nil {
			p, first = *first, nil
		} else {
			var ok bool
			if p.c, p.ad, ok = x.next(ctx, &rediscover, how); !ok {
				break
			}
		}
		c, ad := p.c, p.ad
		o.attempts++
		a := &attempt{x: x, peerID: ad.Peer, payee: common.HexToAddress(ad.Payee), adRate: c.Rate}
		res, err := a.run(ctx)
		o.cost += a.paid
		tr := Try{Provider: c.Peer, Job: string(a.sess.JobID), Cost: wallet.Amount(a.paid).String(), Units: a.paid}
		if err != nil {
			tr.Error = err.Error()
		}
		o.tries = append(o.tries, tr)
		if err == nil {
			o.peer, o.peerID, o.job, o.result = c.Peer, ad.Peer, a.sess.JobID, res
			return o
		}
		// The provider runs nothing for this replica now: its origins
		// are free for the next (an ordinary job rescheduled on the same
		// LAN; another replica).
		x.release(c.Origins)
		if errors.Is(err, ErrProviderLost) && !looked {
			rediscover, looked = true, true
		}
		last = err
		x.r.Log.Warn("attempt failed; trying another provider", "provider", c.Peer, "err", err)
		fmt.Fprintf(x.opt.Notes, "spare: provider %s: %v\n", shortPeer(c.Peer), err)
		if errors.Is(err, ErrRelayOnly) {
			fmt.Fprintf(x.opt.Notes, "spare: provider %s is reached only through a relay: %s\n", shortPeer(c.Peer), RelayOnlyFix)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if last == nil {
		last = fmt.Errorf("%w: no untried provider left from a network origin no other replica holds", ErrNoProvider)
	} else {
		last = fmt.Errorf("%w after %d attempt(s): %w", ErrNoProvider, o.attempts, last)
	}
	o.err = last
	return o
}

// release frees origins that next claimed for an attempt that ended.
func (x *submission) release(origins []Origin) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, o := range origins {
		delete(x.claimed, o)
	}
}

// picked is a provider next chose for an attempt.
type picked struct {
	c  Candidate
	ad p2p.Ad
}

// tieBreak runs the job once more, on a provider drawn at random from an
// origin neither earlier run holds, after a spot check's two runs
// differed. false: no such provider fits.
func (x *submission) tieBreak(ctx context.Context) (replicaOutcome, bool) {
	noMore := false
	c, ad, ok := x.next(ctx, &noMore, byDraw)
	if !ok {
		x.r.Log.Info("no provider to break a spot check's tie")
		return replicaOutcome{}, false
	}
	x.r.Log.Info("a spot check disagreed; breaking the tie with a third run", "provider", c.Peer)
	return x.replica(ctx, byDraw, &picked{c: c, ad: ad}), true
}

// replicaPlan is how one replica finds its providers, and the first.
type replicaPlan struct {
	how   choice
	first *picked
}

// plan picks every replica's first provider before any job starts: the
// best-ranked for a job asked to run once, plus a second drawn at random
// from another origin when the trust record asks for a spot check
// (Replicas; a new provider is always checked); for a replicated job, k
// drawn at random, each from its own origin. Fewer than k found for a
// replicated job: an error wrapping ErrNoProvider, and nothing is run.
func (x *submission) plan(ctx context.Context, k int, out *SubmitResult) ([]replicaPlan, error) {
	noMore := false
	if k == 1 {
		c, ad, ok := x.next(ctx, &noMore, byRank)
		if !ok {
			return []replicaPlan{{how: byRank}}, nil // the replica says why
		}
		plans := []replicaPlan{{how: byRank, first: &picked{c: c, ad: ad}}}
		if Replicas(1, c.Trust, x.drawUint64()) < 2 {
			return plans, nil
		}
		c2, ad2, ok := x.next(ctx, &noMore, byDraw)
		if !ok {
			out.Verdict = "not spot-checked: no second provider from another network origin fits"
			x.r.Log.Info("no provider for a spot check", "provider", c.Peer)
			return plans, nil
		}
		out.SpotCheck = true
		x.r.Log.Info("spot-checking the provider with a second run", "provider", c.Peer, "checker", c2.Peer)
		return append(plans, replicaPlan{how: byDraw, first: &picked{c: c2, ad: ad2}}), nil
	}
	var plans []replicaPlan
	for range k {
		c, ad, ok := x.next(ctx, &noMore, byDraw)
		if !ok {
			x.mu.Lock()
			fit := len(x.ranked)
			x.mu.Unlock()
			return nil, fmt.Errorf("%w: %d replicas need as many providers from distinct network origins (a /24 or /48 each, relayed ones counting as one); found %d among the %d that fit",
				ErrNoProvider, k, len(plans), fit)
		}
		plans = append(plans, replicaPlan{how: byDraw, first: &picked{c: c, ad: ad}})
	}
	return plans, nil
}
