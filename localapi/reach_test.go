package localapi_test

import (
	"strings"
	"testing"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/p2p"
)

// TestReachLine: every verdict p2p gives has its sentence; a node not
// reached directly is told to turn on UPnP or forward the port it
// listens on (its LAN address's, not a mapped public one's); no p2p
// host, no line.
func TestReachLine(t *testing.T) {
	addrs := []string{
		"/ip4/203.0.113.7/tcp/61000/p2p/12D3KooW",
		"/ip4/192.168.1.20/udp/40124/quic-v1/p2p/12D3KooW",
		"/ip4/192.168.1.20/tcp/40123/p2p/12D3KooW",
	}
	for _, c := range []struct {
		reach p2p.Reach
		addrs []string
		want  []string
	}{
		{p2p.ReachDirect, addrs, []string{"Reachable directly"}},
		{p2p.ReachHolePunch, addrs, []string{"Reachable through hole punching", "UPnP", "forward TCP port 40123 and UDP port 40124 to this computer"}},
		{p2p.ReachRelayOnly, addrs, []string{"Only reachable through a relay: jobs are refused", "UPnP", "forward TCP port 40123 and UDP port 40124 to this computer"}},
		{p2p.ReachRelayOnly, []string{"/ip4/192.168.1.20/udp/40123/quic-v1", "/ip4/192.168.1.20/tcp/40123", "/ip4/192.168.1.20/udp/5000/webrtc-direct"}, []string{"forward TCP and UDP port 40123 to this computer"}},
		{p2p.ReachRelayOnly, addrs[:1], []string{"forward TCP port 61000 "}},
		{p2p.ReachRelayOnly, []string{"/ip4/10.0.0.2/tcp/0", "/dns4/x/tcp/5"}, []string{"forward a port to this computer"}},
		{p2p.ReachUnknown, addrs, []string{"Still checking"}},
	} {
		line := localapi.Status{Reach: string(c.reach), Addrs: c.addrs}.ReachLine()
		for _, w := range c.want {
			if !strings.Contains(line, w) {
				t.Errorf("reach %q, addrs %v: %q lacks %q", c.reach, c.addrs, line, w)
			}
		}
	}
	if line := (localapi.Status{}).ReachLine(); line != "" {
		t.Errorf("no p2p host: %q, want no line", line)
	}
}
