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

// TestPunchVerdict: a node behind a NAT whose hole punches all failed
// reports itself relay-only with the reason; one success, a public
// verdict or too few attempts leave the report as it was.
func TestPunchVerdict(t *testing.T) {
	private := reachabilityOf(network.ReachabilityPrivate, network.NATDeviceTypeUnknown, network.NATDeviceTypeUnknown)
	cases := []struct {
		name       string
		r          network.Reachability
		ok, failed int
		want       Reach
	}{
		{"no punches yet", network.ReachabilityPrivate, 0, 0, ReachHolePunch},
		{"fewer failures than the threshold", network.ReachabilityPrivate, 0, PunchFailsRelayOnly - 1, ReachHolePunch},
		{"every punch failed", network.ReachabilityPrivate, 0, PunchFailsRelayOnly, ReachRelayOnly},
		{"one success among failures", network.ReachabilityPrivate, 1, 10, ReachHolePunch},
		{"public: punches do not matter", network.ReachabilityPublic, 0, 10, ReachDirect},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := punchVerdict(reachabilityOf(c.r, network.NATDeviceTypeUnknown, network.NATDeviceTypeUnknown), c.r, c.ok, c.failed)
			if got.Reach != c.want {
				t.Fatalf("got %s, want %s (from %s)", got.Reach, c.want, private.Reach)
			}
			if c.want == ReachRelayOnly && (!strings.Contains(got.Hint, "hole punches") || !strings.Contains(got.Hint, "forward a port")) {
				t.Errorf("hint %q does not say why and what to do", got.Hint)
			}
		})
	}
}
