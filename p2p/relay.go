package p2p

import (
	"context"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
)

// RelayHop is circuit relay v2's hop protocol: a peer that speaks it
// volunteers as a relay.
const RelayHop = protocol.ID("/libp2p/circuit/relay/0.2.0/hop")

// Limits of a volunteer relay (Config.Relay). A relayed connection only
// carries first contact and the hole punch that follows (a job's streams
// need a direct one), so each circuit is short and small.
const (
	RelayMaxReservations = 32
	RelayMaxCircuits     = 8
	RelayCircuitTime     = 2 * time.Minute
	RelayCircuitBytes    = 128 << 10
	// relayCandidateDelay is how long autorelay waits for more relay
	// candidates than it has before reserving with those it has.
	relayCandidateDelay = 5 * time.Second
)

// ErrRelayOnly reports a peer reached only through a relay: hole punching
// gave no direct connection (one side may be behind a symmetric NAT), and
// a stream that needs a direct connection (a job's) is not opened.
var ErrRelayOnly = errors.New("only a relayed connection to the peer (hole punching failed; it may be behind a symmetric NAT), and this needs a direct one")

// RelayWanted is the owner's relay setting read against the connection:
// a node volunteers as a relay only when its owner allows it and the
// connection is not metered (a metered connection's bytes cost money).
func RelayWanted(allowed, metered bool) bool { return allowed && !metered }

// relayOptions are the libp2p options for relaying: the volunteer relay
// service when Config.Relay is set and not a bootstrap node's full one
// (libp2p runs it only while AutoNAT finds this host publicly
// reachable), and the autorelay client: the bootstrap peers as static
// relays, else the connected peers that volunteer.
func (n *Host) relayOptions(boot []peer.AddrInfo) []libp2p.Option {
	var opts []libp2p.Option
	if n.cfg.Relay && !n.cfg.BootstrapNode {
		res := relayv2.DefaultResources()
		res.MaxReservations, res.MaxCircuits = RelayMaxReservations, RelayMaxCircuits
		res.Limit = &relayv2.RelayLimit{Duration: RelayCircuitTime, Data: RelayCircuitBytes}
		opts = append(opts, libp2p.EnableRelayService(relayv2.WithResources(res)))
	}
	if n.cfg.BootstrapNode {
		return opts
	}
	if len(boot) > 0 {
		return append(opts, libp2p.EnableAutoRelayWithStaticRelays(boot))
	}
	return append(opts, libp2p.EnableAutoRelayWithPeerSource(n.relayCandidates,
		autorelay.WithMinCandidates(1), autorelay.WithBootDelay(relayCandidateDelay)))
}

// relayCandidates is autorelay's peer source: the connected peers that
// speak RelayHop (volunteer Spare nodes, bootstrap nodes), at most num.
func (n *Host) relayCandidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, num)
	defer close(out)
	h, ok := n.relayHost.Load().(host.Host)
	if !ok {
		return out
	}
	for _, p := range h.Network().Peers() {
		if len(out) == num {
			break
		}
		if ps, err := h.Peerstore().SupportsProtocols(p, RelayHop); err != nil || len(ps) == 0 {
			continue
		}
		out <- peer.AddrInfo{ID: p, Addrs: h.Peerstore().Addrs(p)}
	}
	return out
}

// RelayServing says whether this host now serves as a relay: the hop
// protocol is registered while the relay service runs.
func (n *Host) RelayServing() bool {
	for _, p := range n.h.Mux().Protocols() {
		if p == RelayHop {
			return true
		}
	}
	return false
}
