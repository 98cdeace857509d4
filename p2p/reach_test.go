package p2p

import (
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
)

// TestReachabilityOf: how a node is reached follows from AutoNAT's verdict
// and the NAT type per transport; only a node that cannot be reached
// directly gets a hint, and a symmetric NAT's says why jobs cannot run.
func TestReachabilityOf(t *testing.T) {
	const (
		cone = network.NATDeviceTypeEndpointIndependent
		sym  = network.NATDeviceTypeEndpointDependent
		unk  = network.NATDeviceTypeUnknown
	)
	cases := []struct {
		name     string
		r        network.Reachability
		tcp, udp network.NATDeviceType
		want     Reach
	}{
		{"public", network.ReachabilityPublic, unk, unk, ReachDirect},
		{"public despite a symmetric guess", network.ReachabilityPublic, sym, sym, ReachDirect},
		{"not yet known", network.ReachabilityUnknown, unk, unk, ReachUnknown},
		{"full or port-restricted cone", network.ReachabilityPrivate, cone, cone, ReachHolePunch},
		{"private, type not known yet", network.ReachabilityPrivate, unk, unk, ReachHolePunch},
		{"symmetric on both", network.ReachabilityPrivate, sym, sym, ReachRelayOnly},
		{"symmetric on TCP, unknown on UDP", network.ReachabilityPrivate, sym, unk, ReachRelayOnly},
		{"symmetric on TCP, cone on UDP: QUIC punches", network.ReachabilityPrivate, sym, cone, ReachHolePunch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := reachabilityOf(c.r, c.tcp, c.udp)
			if got.Reach != c.want {
				t.Fatalf("got %s, want %s", got.Reach, c.want)
			}
			if (got.Hint == "") != (c.want == ReachDirect) {
				t.Errorf("hint %q for %s", got.Hint, got.Reach)
			}
			if c.want == ReachRelayOnly && !strings.Contains(got.Hint, "symmetric") {
				t.Errorf("hint %q does not say why", got.Hint)
			}
		})
	}
}
