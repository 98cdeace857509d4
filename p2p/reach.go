package p2p

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
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
	forward := "enable UPnP on the router, or forward a port to this machine and give it with --listen /ip4/0.0.0.0/tcp/PORT"
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

// reachWatch keeps the latest AutoNAT verdict and NAT types.
type reachWatch struct {
	mu       sync.Mutex
	reach    network.Reachability
	tcp, udp network.NATDeviceType
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
	return reachabilityOf(n.reach.reach, n.reach.tcp, n.reach.udp)
}

// Network is the name of this host's Spare network: "public", or the
// private pool's name.
func (n *Host) Network() string {
	if n.names.pool == "" {
		return "public"
	}
	return n.names.pool
}
