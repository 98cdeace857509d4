package p2p

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/sparegpu/spare/internal/simnet"
	"github.com/sparegpu/spare/internal/testenv"
)

// inNetns is set in the environment of a test re-run inside a private
// network namespace.
const inNetns = "SPARE_P2P_TEST_NETNS"

// runInNetns re-runs the calling test in a new network namespace (root
// needed) so that multicast and other traffic never leaves this machine's
// loopback. It returns true in the parent, which should then return.
func runInNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(inNetns) != "" {
		return false
	}
	testenv.NeedRoot(t)
	unshare := testenv.NeedCommand(t, "unshare", "util-linux")
	testenv.NeedCommand(t, "ip", "iproute2")
	cmd := exec.CommandContext(testCtx(t), unshare, "--net", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), inNetns+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a new network namespace:\n%s", out)
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("test in network namespace failed: %v", err)
	}
	return true
}

// TestMDNSDiscovery: two hosts with no bootstrap peers find each other on
// the LAN — here the loopback of a private network namespace with
// multicast switched on.
func TestMDNSDiscovery(t *testing.T) {
	if runInNetns(t) {
		return
	}
	simnet.Sh(t, "ip", "link", "set", "lo", "up", "multicast", "on")
	simnet.Sh(t, "ip", "route", "add", "224.0.0.0/4", "dev", "lo")
	listen, err := ParseMultiaddrs(LoopbackListen)
	if err != nil {
		t.Fatal(err)
	}
	a := newTestHostMDNS(t, Config{Listen: listen, NoPortMap: true})
	sub, err := a.LibP2P().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	b := newTestHostMDNS(t, Config{Listen: listen, NoPortMap: true})
	ctx := testCtx(t)
	for {
		select {
		case e := <-sub.Out():
			c := e.(event.EvtPeerConnectednessChanged)
			if c.Peer == b.ID() && c.Connectedness == network.Connected {
				return
			}
		case <-ctx.Done():
			t.Fatal("hosts did not find each other by mDNS")
		}
	}
}

// newTestHostMDNS is newTestHost without LoopbackOnly (which turns mDNS off).
func newTestHostMDNS(t *testing.T, cfg Config) *Host {
	t.Helper()
	cfg.Logger = testLogger
	h, err := New(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
