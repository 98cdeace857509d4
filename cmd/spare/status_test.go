package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/p2p"
)

// TestStatusReach: spare status prints the reach line the app's Status
// page shows (localapi.Status.ReachLine), then the daemon's own hint and
// the hole punches; without a p2p host, neither.
func TestStatusReach(t *testing.T) {
	s := localapi.Status{State: localapi.StateAvailable, Network: "public", SparePeers: 2,
		Addrs: []string{"/ip4/192.168.1.20/tcp/40123"}, Reach: string(p2p.ReachRelayOnly),
		ReachHint: "all 3 hole punches with other nodes failed", HolePunchFails: 3, EarnedToday: "0"}
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	if err := printStatus(cmd, &globals{}, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"network: public, 2 Spare peer(s) connected\n", "reach:   " + s.ReachLine() + "\n",
		"         " + s.ReachHint + "\n", "hole punches: 0 succeeded, 3 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("spare status lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(s.ReachLine(), "forward TCP port 40123") {
		t.Errorf("reach line %q does not name the port", s.ReachLine())
	}
	out.Reset()
	if err := printStatus(cmd, &globals{}, localapi.Status{State: localapi.StateAvailable}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "reach") {
		t.Errorf("no p2p host, yet a reach line:\n%s", out.String())
	}
}
