package p2p

import (
	"context"
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/prometheus/client_golang/prometheus"
)

// Reach says how other nodes reach this one.
type Reach string

const (
	// ReachUnknown: AutoNAT has not given its verdict yet (the first
	// minute or so, or no peer able to check).
	ReachUnknown Reach = "unknown"
	// ReachDirect: a public address others can dial (a public IP, a port
	// forward, or a UPnP/NAT-PMP mapping).
	ReachDirect Reach = "direct"
	// ReachHolePunch: behind a NAT that keeps one port per socket (cone):
	// others meet this node through a relay and then punch a direct
	// connection (DCUtR), which jobs use.
	ReachHolePunch Reach = "hole-punching"
	// ReachRelayOnly: behind a NAT that gives every connection a new port
	// (symmetric): hole punching fails, so only relayed connections reach
	// this node, and a job needs a direct one.
	ReachRelayOnly Reach = "relay-only"
)

// valid says whether r is one of the values above, or empty (an ad
// from a node that does not say).
func (r Reach) valid() bool {
	switch r {
	case "", ReachUnknown, ReachDirect, ReachHolePunch, ReachRelayOnly:
		return true
	}
	return false
}

// forwardHint is what an owner can do to be reached directly.
const forwardHint = "enable UPnP on the router, or forward a port to this machine and give it with --listen /ip4/0.0.0.0/tcp/PORT"

// Reachability is what Host.Reachability reports: how this node is
// reached and, when not directly, what its owner can do.
type Reachability struct {
	Reach Reach  `json:"reach"`
	Hint  string `json:"hint,omitempty"`
}

// reachabilityOf derives the report from AutoNAT's verdict and the NAT
// type identify inferred from the addresses peers observed (per transport;
// one cone transport is enough to punch a hole).
func reachabilityOf(r network.Reachability, tcp, udp network.NATDeviceType) Reachability {
	forward := forwardHint
	switch {
	case r == network.ReachabilityPublic:
		return Reachability{Reach: ReachDirect}
	case r == network.ReachabilityUnknown:
		return Reachability{Reach: ReachUnknown, Hint: "still checking with other nodes"}
	case tcp == network.NATDeviceTypeEndpointDependent && udp != network.NATDeviceTypeEndpointIndependent ||
		udp == network.NATDeviceTypeEndpointDependent && tcp != network.NATDeviceTypeEndpointIndependent:
		return Reachability{Reach: ReachRelayOnly, Hint: "the router gives every connection a new port (a symmetric NAT), so hole punching fails and requesters cannot run jobs here: " + forward}
	default:
		return Reachability{Reach: ReachHolePunch, Hint: "behind a NAT: requesters reach this node by hole punching; to be reached directly, " + forward}
	}
}

// PunchFailsRelayOnly is how many hole punches must have failed, with
// none succeeding since the start, before a node behind a NAT reports
// itself relay-only. identify's NAT type needs observations from many
// distinct addresses, which a node that has met few peers lacks; failed
// punches are the evidence it does have.
const PunchFailsRelayOnly = 3

// punchVerdict revises rep by this node's own hole punches: a node behind
// a NAT whose every punch failed is reached only through relays,
// whatever identify inferred.
func punchVerdict(rep Reachability, r network.Reachability, ok, failed int) Reachability {
	if r == network.ReachabilityPublic || ok > 0 || failed < PunchFailsRelayOnly || rep.Reach == ReachRelayOnly {
		return rep
	}
	return Reachability{Reach: ReachRelayOnly, Hint: fmt.Sprintf("all %d hole punches with other nodes failed: the router likely gives every connection a new port (a symmetric NAT), so requesters cannot run jobs here: %s", failed, forwardHint)}
}

// reachWatch keeps the latest AutoNAT verdict, NAT types and the hole
// punches' rounds and outcomes.
type reachWatch struct {
	mu       sync.Mutex
	reach    network.Reachability
	tcp, udp network.NATDeviceType
	peers    punchPeers
}

// punchTracer follows DCUtR's rounds (holepunch.EventTracer): each
// punch's end, and the direct dial DCUtR tries before punching, which
// ends the round when the peer could be dialled back.
type punchTracer struct{ w *punchPeers }

func (p punchTracer) Trace(evt *holepunch.Event) {
	switch e := evt.Evt.(type) {
	case *holepunch.StartHolePunchEvt:
		p.w.began(evt.Remote)
	case *holepunch.EndHolePunchEvt:
		p.w.ended(evt.Remote, e.Success, false)
	case *holepunch.DirectDialEvt:
		p.w.began(evt.Remote)
		if e.Success {
			p.w.ended(evt.Remote, true, false)
		}
	case *holepunch.ProtocolErrorEvt:
		// The punch's coordination failed: libp2p tries no more.
		p.w.ended(evt.Remote, false, true)
	}
}

func (n *Host) watchReach(ctx context.Context, sub event.Subscription) {
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			n.reach.mu.Lock()
			switch ev := e.(type) {
			case event.EvtLocalReachabilityChanged:
				n.reach.reach = ev.Reachability
			case event.EvtNATDeviceTypeChanged:
				if ev.TransportProtocol == network.NATTransportTCP {
					n.reach.tcp = ev.NatDeviceType
				} else {
					n.reach.udp = ev.NatDeviceType
				}
			}
			n.reach.mu.Unlock()
		}
	}
}

// Reachability is how other nodes reach this one now.
func (n *Host) Reachability() Reachability {
	n.reach.mu.Lock()
	defer n.reach.mu.Unlock()
	w := &n.reach
	ok, failed := w.peers.counts()
	return punchVerdict(reachabilityOf(w.reach, w.tcp, w.udp), w.reach, ok, failed)
}

// HolePunches counts, since the start, the connections through a relay
// that DCUtR upgraded to direct ones (ok: by a hole punch, or by the
// direct dial it tries first, on whichever side) and the hole punches
// that failed, a round whose coordination failed (DCUtR's protocol
// error: no punch was tried, and libp2p tries no more) counting as one.
func (n *Host) HolePunches() (ok, failed int) { return n.reach.peers.counts() }

// Network is the name of this host's Spare network: Config.Network when
// set, else "public" or the private pool's name.
func (n *Host) Network() string {
	switch {
	case n.cfg.Network != "":
		return n.cfg.Network
	case n.names.pool == "":
		return "public"
	}
	return n.names.pool
}

// Pool is the private pool's name ("" on the public Spare network).
func (n *Host) Pool() string { return n.names.pool }

// punchTracing is DCUtR's tracing: punchTracer, and libp2p's own hole
// punch metrics into reg when it is set. libp2p adds its metrics tracer
// before the caller's options, and a later tracer option replaces an
// earlier one: given alone, punchTracer would leave libp2p's
// libp2p_holepunch_* metrics registered but never counted.
func punchTracing(w *punchPeers, reg prometheus.Registerer) holepunch.Option {
	if reg == nil {
		return holepunch.WithTracer(punchTracer{w})
	}
	return holepunch.WithMetricsAndEventTracer(holepunch.NewMetricsTracer(holepunch.WithRegisterer(reg)), punchTracer{w})
}
