package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	lpnet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/p2p"
)

// poolDir is a data directory holding key as its p2p identity and file
// as its networks.json.
func poolDir(t *testing.T, key crypto.PrivKey, file string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p2p.IdentityFile)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, p2p.IdentityFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	writeNetworks(t, dir, file)
	return dir
}

// TestNamedPoolNetwork: a private pool defined in networks.json, end to
// end. `spare bootstrap --network studio` (the binary) and a node
// started as `spare node --network studio` starts its host (join, then
// openHost) meet in the pool and keep each other; a node of the same
// pool not on the allow-list is refused, and a node on the allow-list
// but on the public network is cut off once it says which network it is
// on. The conflicting --pool is refused by the binary, naming both flags.
func TestNamedPoolNetwork(t *testing.T) {
	kA, a := testPeerKey(t)
	kB, b := testPeerKey(t)
	kC, _ := testPeerKey(t)
	kD, d := testPeerKey(t)
	file := `{"studio": {"pool": "studio-rdv", "allow_peers": ["` + a.String() + `", "` + b.String() + `", "` + d.String() + `"]}}`
	dirA := poolDir(t, kA, file)

	bad := startDaemon(t, "--data", dirA, "bootstrap", "--network", "studio", "--pool", "other", "--listen", "/ip4/127.0.0.1/tcp/0")
	var stderr strings.Builder
	bad.Stderr = &stderr
	if err := bad.Run(); bad.ProcessState.ExitCode() != 2 || !strings.Contains(stderr.String(), "--pool other with --network studio") {
		t.Errorf("--network studio --pool other: %v, %s", err, stderr.String())
	}

	boot := startDaemon(t, "--data", dirA, "bootstrap", "--network", "studio", "--no-mdns", "--no-public", "--listen", "/ip4/127.0.0.1/tcp/0")
	out, err := boot.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := boot.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = boot.Process.Signal(syscall.SIGTERM); _ = boot.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "/p2p/"+a.String()) {
		t.Fatalf("bootstrap printed %q: %v", line, err)
	}
	bootAddr := strings.TrimSpace(line)
	ai, err := peer.AddrInfoFromString(bootAddr)
	if err != nil {
		t.Fatal(err)
	}

	quiet := &globals{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	// node is a host started as spare node starts it, on network name
	// ("": none), with the bootstrap node as its --bootstrap.
	node := func(key crypto.PrivKey, name, file string) *p2p.Host {
		t.Helper()
		dir := poolDir(t, key, file)
		nf := netFlags{listen: []string{"/ip4/127.0.0.1/tcp/0"}, noMDNS: true, noPublic: true, ads: "auto"}
		if name != "" {
			nf.bootstrap = []string{bootAddr}
		}
		if err := nf.join(dir, name, "--network"); err != nil {
			t.Fatal(err)
		}
		h, err := nf.openHost(context.Background(), quiet, dir, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	connected := func(h *p2p.Host) bool { return h.LibP2P().Network().Connectedness(a) == lpnet.Connected }

	hB := node(kB, "studio", file)
	if hB.Network() != "studio" || hB.Pool() != "studio-rdv" {
		t.Errorf("network %q, pool %q; want studio, studio-rdv", hB.Network(), hB.Pool())
	}
	testenv.WaitFor(t, "the bootstrap node as a Spare peer of studio", 20*time.Second, func() bool { return hB.SparePeers() == 1 })

	// Not on the allow-list: refused as the connection is secured.
	hC := node(kC, "studio", file)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hC.Connect(ctx, *ai)
	testenv.WaitFor(t, "the node off the allow-list refused", 20*time.Second, func() bool { return !connected(hC) })
	// On the allow-list, but on the public network: cut off once it
	// identifies.
	hD := node(kD, "", `{}`)
	if hD.Network() != "public" {
		t.Errorf("a node without a network is on %q, want public", hD.Network())
	}
	_ = hD.Connect(ctx, *ai)
	testenv.WaitFor(t, "the public node cut off", 20*time.Second, func() bool { return !connected(hD) })

	// The pool's member is still kept: the connection answers pings.
	res := <-ping.Ping(ctx, hB.LibP2P(), a)
	if res.Error != nil || !connected(hB) || hB.SparePeers() != 1 {
		t.Errorf("the pool's member lost the bootstrap node: ping %v, %d Spare peers", res.Error, hB.SparePeers())
	}
}
