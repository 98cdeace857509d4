package p2p

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/host/relaysvc"
	pbv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/pb"
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

// relayOptions are the libp2p options for relaying: the autorelay
// client, with the bootstrap peers as static relays, else the connected
// peers that volunteer. (The volunteer relay service is SetRelay's.)
func (n *Host) relayOptions(boot []peer.AddrInfo) []libp2p.Option {
	var opts []libp2p.Option
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

// volunteer is the volunteer relay service as the owner's setting
// switches it while the host runs (Host.SetRelay): libp2p's relay
// manager, which runs the relay (limited to RelayMaxReservations,
// RelayMaxCircuits, RelayCircuitTime and RelayCircuitBytes) only while
// AutoNAT finds this host publicly reachable, and what the relay does.
type volunteer struct {
	mu    sync.Mutex
	mgr   *relaysvc.RelayManager // nil: not volunteering
	count *relayCounter
	// stopAds ends the ad batches this host volunteers with the relay
	// (adVolunteer); nil while it does not.
	stopAds context.CancelFunc
}

// SetRelay starts (allowed) or stops the volunteer relay service at once;
// stopping it ends the circuits it carries and the reservations it
// holds. The caller reads the owner's consent against a metered
// connection (RelayWanted). A bootstrap node runs its own full relay,
// which this leaves alone.
func (n *Host) SetRelay(allowed bool) {
	if n.cfg.BootstrapNode {
		return
	}
	v := &n.relay
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case allowed && v.mgr == nil:
		res := relayv2.DefaultResources()
		res.MaxReservations, res.MaxCircuits = RelayMaxReservations, RelayMaxCircuits
		res.Limit = &relayv2.RelayLimit{Duration: RelayCircuitTime, Data: RelayCircuitBytes}
		v.count = &relayCounter{}
		if n.cfg.Metrics != nil {
			v.count.next = relayv2.NewMetricsTracer(relayv2.WithRegisterer(n.cfg.Metrics))
		}
		v.mgr = relaysvc.NewRelayManager(n.h, relayv2.WithResources(res), relayv2.WithMetricsTracer(v.count))
		n.log.Info("volunteering as a relay for nodes behind NATs (while this node is reached directly)")
	case !allowed && v.mgr != nil:
		_ = v.mgr.Close() // closes the relay: its reservations and circuits end
		v.mgr = nil
		n.log.Info("no longer relaying for other nodes")
	}
	n.adVolunteerLocked(allowed)
}

// RelayStatus is what the volunteer relay does now.
type RelayStatus struct {
	// Allowed: the service is on (SetRelay(true)); Serving: the relay
	// runs, AutoNAT having found this host publicly reachable.
	Allowed, Serving bool
	// Reservations are the nodes behind NATs holding a reservation with
	// this relay; Circuits the relayed connections open through it.
	Reservations, Circuits int
}

// Relay says what the volunteer relay does now.
func (n *Host) Relay() RelayStatus {
	v := &n.relay
	v.mu.Lock()
	allowed, c := v.mgr != nil, v.count
	v.mu.Unlock()
	st := RelayStatus{Allowed: allowed, Serving: allowed && n.RelayServing()}
	if st.Serving && c != nil {
		st.Reservations, st.Circuits = c.now()
	}
	return st
}

// closeRelay stops the volunteer relay service (Host.Close).
func (n *Host) closeRelay() {
	n.relay.mu.Lock()
	defer n.relay.mu.Unlock()
	if n.relay.mgr != nil {
		_ = n.relay.mgr.Close()
		n.relay.mgr = nil
	}
}

// relayCounter counts a relay's reservations and circuits
// (relayv2.MetricsTracer), and passes each call on to libp2p's metrics
// when next is set.
type relayCounter struct {
	mu                     sync.Mutex
	reservations, circuits int
	next                   relayv2.MetricsTracer
}

var _ relayv2.MetricsTracer = (*relayCounter)(nil)

func (c *relayCounter) now() (reservations, circuits int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reservations, c.circuits
}

func (c *relayCounter) add(reservations, circuits int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reservations = max(c.reservations+reservations, 0)
	c.circuits = max(c.circuits+circuits, 0)
}

func (c *relayCounter) RelayStatus(enabled bool) {
	if c.next != nil {
		c.next.RelayStatus(enabled)
	}
}

func (c *relayCounter) ConnectionOpened() {
	c.add(0, 1)
	if c.next != nil {
		c.next.ConnectionOpened()
	}
}

func (c *relayCounter) ConnectionClosed(d time.Duration) {
	c.add(0, -1)
	if c.next != nil {
		c.next.ConnectionClosed(d)
	}
}

func (c *relayCounter) ConnectionRequestHandled(st pbv2.Status) {
	if c.next != nil {
		c.next.ConnectionRequestHandled(st)
	}
}

func (c *relayCounter) ReservationAllowed(renewal bool) {
	if !renewal {
		c.add(1, 0)
	}
	if c.next != nil {
		c.next.ReservationAllowed(renewal)
	}
}

func (c *relayCounter) ReservationClosed(n int) {
	c.add(-n, 0)
	if c.next != nil {
		c.next.ReservationClosed(n)
	}
}

func (c *relayCounter) ReservationRequestHandled(st pbv2.Status) {
	if c.next != nil {
		c.next.ReservationRequestHandled(st)
	}
}

func (c *relayCounter) BytesTransferred(n int) {
	if c.next != nil {
		c.next.BytesTransferred(n)
	}
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
