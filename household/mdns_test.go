package household

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet"
)

// inNetns is set in the environment of a test re-run inside a private
// network namespace.
const inNetns = "SPARE_HOUSEHOLD_TEST_NETNS"

// runInNetns re-runs the calling test in a new network namespace (root
// needed), its loopback with multicast on, so that mDNS never leaves this
// machine. It returns true in the parent, which should then return.
func runInNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(inNetns) != "" {
		for _, args := range [][]string{{"ip", "link", "set", "lo", "up", "multicast", "on"}, {"ip", "route", "add", "224.0.0.0/4", "dev", "lo"}} {
			if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v: %s", args, err, out)
			}
		}
		return false
	}
	testenv.NeedRoot(t)
	unshare := testenv.NeedCommand(t, "unshare", "util-linux")
	testenv.NeedCommand(t, "ip", "iproute2")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--net", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), inNetns+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a new network namespace:\n%s", out)
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("test in network namespace failed: %v", err)
	}
	return true
}

// TestHouseholdByMDNS: two machines sharing a payee key, never told of
// each other, find each other on the LAN by mDNS (the p2p host's) and
// join each other's household by themselves; the first one's LocalAPI
// shows the second.
func TestHouseholdByMDNS(t *testing.T) {
	if runInNetns(t) {
		return
	}
	shared, err := wallet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	listen, err := p2p.ParseMultiaddrs(p2p.LoopbackListen)
	if err != nil {
		t.Fatal(err)
	}
	start := func(name string) *testMachine {
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		h, err := p2p.New(ctx, p2p.Config{DataDir: dir, Listen: listen, NoPortMap: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return startMachineOn(t, h, dir, name, shared, "0.100000")
	}
	a, b := start("Study PC"), start("Living room")
	testenv.WaitFor(t, "the machines to find each other by mDNS and join", 30*time.Second, func() bool {
		h, err := a.api.Household(context.Background())
		return err == nil && len(h.Machines) == 2 && h.Machines[1].Name == "Living room" && h.Machines[1].Reachable && h.EarnedToday == 200_000
	})
	if b.svc.members.via(a.host.ID()) == "" {
		t.Fatal("the living-room PC did not take the study PC in")
	}
}
