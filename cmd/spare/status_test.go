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
	s := localapi.Status{State: localapi.StateAvailable, Network: "public", SparePeers: 2, Settles: localapi.SettlesLedger,
		Addrs: []string{"/ip4/192.168.1.20/tcp/40123"}, Reach: string(p2p.ReachRelayOnly),
		ReachHint: "all 3 hole punches with other nodes failed", HolePunchFails: 3, EarnedToday: "0"}
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	if err := printStatus(cmd, &globals{}, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"network: public (IOUs in the embedded ledger), 2 Spare peers connected\n", "reach:   " + s.ReachLine() + "\n",
		"         " + s.ReachHint + "\n", "hole punches: 0 succeeded, 3 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("spare status lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(s.ReachLine(), "forward TCP port 40123") {
		t.Errorf("reach line %q does not name the port", s.ReachLine())
	}
	// A named network: its name, its pool and how money settles.
	for _, tc := range []struct {
		s    localapi.Status
		want string
	}{
		{localapi.Status{Network: "studio", Pool: "studio-rdv", Settles: localapi.SettlesLedger, SparePeers: 1},
			"network: studio (private pool studio-rdv; IOUs in the embedded ledger), 1 Spare peer connected\n"},
		{localapi.Status{Network: "lab", Pool: "lab", Settles: localapi.SettlesLedger},
			"network: lab (a private pool; IOUs in the embedded ledger), 0 Spare peers connected\n"},
		{localapi.Status{Network: "mynet", Settles: "mynet", SparePeers: 3},
			"network: mynet (the public Spare network; money settles on chain mynet), 3 Spare peers connected\n"},
	} {
		out.Reset()
		if err := printStatus(cmd, &globals{}, tc.s); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("spare status lacks %q:\n%s", tc.want, out.String())
		}
	}
	out.Reset()
	if err := printStatus(cmd, &globals{}, localapi.Status{State: localapi.StateAvailable}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "reach") || strings.Contains(out.String(), "network") {
		t.Errorf("no p2p host, yet a reach line:\n%s", out.String())
	}
}
