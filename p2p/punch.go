package p2p

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
)

// PunchAttempts is how many hole punches a round makes before libp2p
// gives up on a direct connection: the peer that took a relayed
// connection inbound punches this many times (go-libp2p's holepunch,
// the last try with roles switched), and each try ends with an
// EndHolePunch event on both sides.
const PunchAttempts = 3

// punchPeers follows the hole punches with each peer this host is
// connected to only through a relay, round by round, and counts their
// outcomes. A round starts with each new relayed connection to a peer
// this host has no direct connection to; it ends in success when a
// direct connection to the peer comes (DCUtR's punch, or the direct
// dial it tries first: the peer dialled back), and it is forgotten when
// the peer disconnects.
//
// A success is counted by the side that saw it first: the punch's end
// event, or the direct connection's arrival, which is all the side that
// dialled through the relay sees when the other side's direct dial
// reached it (DCUtR sends it no event then).
type punchPeers struct {
	mu sync.Mutex
	// fails holds a failed-punch count for each peer in a round.
	fails map[peer.ID]int
	// begun holds the peers whose round has seen a punch begin (or the
	// direct dial DCUtR tries first, on the side that makes it).
	begun map[peer.ID]bool
	// ok counts the rounds that ended in a direct connection, failed
	// the punches that failed (a round whose coordination failed
	// counting as one), since the host started.
	ok, failed int
	// wake is closed, and replaced, whenever a count changes.
	wake chan struct{}
}

// ended records the end of a punch with p; terminal says the round is
// over whatever its tries (its coordination failed).
func (w *punchPeers) ended(p peer.ID, ok, terminal bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.initLocked()
	w.begun[p] = true
	switch {
	case ok:
		w.upgradedLocked(p)
	case terminal:
		w.fails[p] = max(w.fails[p], PunchAttempts)
		w.failed++
	default:
		w.fails[p]++
		w.failed++
	}
	w.changed()
}

// direct records a direct connection to p: p's round, if one is open,
// ended in success.
func (w *punchPeers) direct(p peer.ID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.upgradedLocked(p) {
		w.changed()
	}
}

// upgradedLocked ends p's round in success and counts it once; false
// when no round was open. w.mu is held.
func (w *punchPeers) upgradedLocked(p peer.ID) bool {
	if _, open := w.fails[p]; !open {
		return false
	}
	delete(w.fails, p)
	w.ok++
	return true
}

// relayed starts a round with p: a relayed connection came, and no
// direct one is there.
func (w *punchPeers) relayed(p peer.ID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.initLocked()
	w.fails[p] = 0
	delete(w.begun, p)
	w.changed()
}

// began records that a punch with p began (DCUtR's first message went
// through, on either side).
func (w *punchPeers) began(p peer.ID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.initLocked()
	w.begun[p] = true
}

// hasBegun says whether p's current round has seen a punch begin.
func (w *punchPeers) hasBegun(p peer.ID) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.begun[p]
}

func (w *punchPeers) initLocked() {
	if w.fails == nil {
		w.fails, w.begun = map[peer.ID]int{}, map[peer.ID]bool{}
	}
}

// reset forgets p's round (p is gone) and wakes the waiters, whose
// peer's connections changed.
func (w *punchPeers) reset(p peer.ID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.fails, p)
	delete(w.begun, p)
	w.changed()
}

// changed wakes the waiters; w.mu is held.
func (w *punchPeers) changed() {
	if w.wake != nil {
		close(w.wake)
	}
	w.wake = make(chan struct{})
}

// state is p's failed punches in this round and a channel closed at the
// next change.
func (w *punchPeers) state(p peer.ID) (int, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wake == nil {
		w.wake = make(chan struct{})
	}
	return w.fails[p], w.wake
}

// counts are the rounds that ended in a direct connection and the
// punches that failed, since the start.
func (w *punchPeers) counts() (ok, failed int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ok, w.failed
}

// notifiee keeps the rounds: a new relayed connection to p starts one
// unless a direct connection is there (the side that took it inbound
// punches again), a direct connection ends it in success, and p
// disconnected forgets it.
func (w *punchPeers) notifiee() network.Notifiee {
	return &network.NotifyBundle{
		ConnectedF: func(nw network.Network, c network.Conn) {
			p := c.RemotePeer()
			if !relayedConn(c) {
				w.direct(p)
				return
			}
			for _, o := range nw.ConnsToPeer(p) {
				if !relayedConn(o) {
					return
				}
			}
			w.relayed(p)
		},
		DisconnectedF: func(nw network.Network, c network.Conn) {
			if nw.Connectedness(c.RemotePeer()) == network.NotConnected {
				w.reset(c.RemotePeer())
			}
		},
	}
}

// relayedConn says whether c goes through a relay.
func relayedConn(c network.Conn) bool {
	return c.Stat().Limited || isCircuit(c.RemoteMultiaddr())
}

// isCircuit says whether a is a relayed (circuit) address.
func isCircuit(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// relayOnlyWhy decides, for a peer this host reaches only through a
// relay (or not yet at all), whether a stream that needs a direct
// connection is refused now: the reason, or "" to go on waiting.
// fails is the current round's failed punches with the peer, adReach
// what the peer's own latest ad says of its reachability ("" when none),
// self this host's reachability: a peer behind a symmetric NAT can still
// dial a host that is reached directly (connection reversal).
func relayOnlyWhy(fails int, adReach, self Reach) string {
	switch {
	case fails >= PunchAttempts:
		return fmt.Sprintf("all %d hole punches with it failed", fails)
	case adReach == ReachRelayOnly && self != ReachDirect:
		return "its ad says it is reached only through a relay, and this node is not reached directly either"
	}
	return ""
}

// adReachOf is what p's latest ad held here says of its reachability.
func (n *Host) adReachOf(p peer.ID) Reach {
	for _, a := range n.CurrentAds() {
		if a.Peer == p {
			return a.Reach
		}
	}
	return ""
}

// NewDirectStream opens a stream of proto to p over a direct connection.
// Over a relayed one libp2p waits for hole punching to give a direct
// connection, until ctx's dial timeout; this ends the wait as soon as
// the punches with p have all failed, or refuses at once, without
// dialling, a peer whose ad says it is reached only through a relay
// (relayOnlyWhy). Either error wraps ErrRelayOnly, as does a timeout
// while only a relayed connection was there.
//
// A punch needs both sides ready: libp2p answers DCUtR only once this
// host knows a public address of its own, and the peer that took the
// relayed connection tries once, as it comes. A fresh host may reach p
// before it is ready; then no punch begins, and this, once ready,
// connects through the relay again (at most punchRetries times), so
// that p punches again (rekick).
func (n *Host) NewDirectStream(ctx context.Context, p peer.ID, proto protocol.ID) (network.Stream, error) {
	nw := n.h.Network()
	if nw.Connectedness(p) != network.Connected {
		if why := relayOnlyWhy(0, n.adReachOf(p), n.Reachability().Reach); why != "" {
			return nil, fmt.Errorf("%w: %s", ErrRelayOnly, why)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		s   network.Stream
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := n.h.NewStream(sctx, p, proto)
		done <- result{s, err}
	}()
	look := time.NewTicker(punchLookEvery)
	defer look.Stop()
	retries := 0
	for {
		fails, wake := n.reach.peers.state(p)
		if nw.Connectedness(p) == network.Limited {
			if why := relayOnlyWhy(fails, n.adReachOf(p), n.Reachability().Reach); why != "" {
				cancel()
				if r := <-done; r.err == nil {
					return r.s, nil // the direct connection came as the punches ended
				}
				return nil, fmt.Errorf("%w: %s", ErrRelayOnly, why)
			}
			if retries < punchRetries && n.rekick(ctx, p) {
				retries++
			}
		}
		select {
		case r := <-done:
			if r.err != nil && nw.Connectedness(p) == network.Limited {
				return nil, fmt.Errorf("%w: %w", ErrRelayOnly, r.err)
			}
			return r.s, r.err
		case <-wake:
		case <-look.C: // this host's readiness has no event
		}
	}
}

// How NewDirectStream gets a punch that never began: how often it looks,
// how long a relayed connection may stand with no punch begun once this
// host can answer one, and how many times it connects again.
const (
	punchLookEvery = 500 * time.Millisecond
	punchGrace     = 3 * time.Second
	punchRetries   = 2
	// punchReconnectWait bounds connecting again through the relay.
	punchReconnectWait = 15 * time.Second
)

// rekick connects to p through a relay again when rekickDue says so: p,
// taking the new connection, punches again. It says whether it did.
func (n *Host) rekick(ctx context.Context, p peer.ID) bool {
	conns := n.h.Network().ConnsToPeer(p)
	states := make([]connState, len(conns))
	for i, c := range conns {
		states[i] = connState{relayed: relayedConn(c), opened: c.Stat().Opened}
	}
	ready := slices.Contains(n.h.Mux().Protocols(), holepunch.Protocol)
	if n.cfg.punchReady != nil {
		ready = n.cfg.punchReady()
	}
	if !rekickDue(n.reach.peers.hasBegun(p), ready, states, time.Now()) {
		return false
	}
	n.log.Info("no hole punch began with a peer reached through a relay; connecting again, now that this node can answer one", "peer", p)
	// Through the same relays: the peer's own addresses may not name them.
	again := peer.AddrInfo{ID: p}
	for _, c := range conns {
		again.Addrs = append(again.Addrs, c.RemoteMultiaddr())
		_ = c.Close()
	}
	cctx, cancel := context.WithTimeout(network.WithAllowLimitedConn(ctx, "spare-punch-again"), punchReconnectWait)
	defer cancel()
	if err := n.h.Connect(cctx, again); err != nil {
		n.log.Warn("connecting again through a relay, for a hole punch", "peer", p, "err", err)
	}
	return true
}

// connState is what rekickDue needs of a connection to the peer.
type connState struct {
	relayed bool
	opened  time.Time
}

// rekickDue says whether to connect to a peer through a relay again: no
// punch has begun with it (begun), this host now answers DCUtR (ready:
// libp2p registers its handler once the host knows a public address of
// its own), and every connection to the peer is relayed and has stood
// punchGrace (the peer punches as a connection comes; a punch already
// under way is left alone).
func rekickDue(begun, ready bool, conns []connState, now time.Time) bool {
	if begun || !ready || len(conns) == 0 {
		return false
	}
	for _, c := range conns {
		if !c.relayed || now.Sub(c.opened) < punchGrace {
			return false
		}
	}
	return true
}
