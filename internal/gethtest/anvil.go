package gethtest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// AnvilVersion is the anvil scripts/anvil.sh installs from npm.
const AnvilVersion = "1.7.1"

// AnvilBinary is the cached anvil scripts/anvil.sh installs, or
// SPARE_TEST_ANVIL.
func AnvilBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SPARE_TEST_ANVIL"); p != "" {
		return p
	}
	dir := os.Getenv("SPARE_ANVIL_CACHE")
	if dir == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(base, "spare", "anvil-"+AnvilVersion)
	}
	p := filepath.Join(dir, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil")
	_, err := os.Stat(p)
	testenv.Need(t, err == nil, "anvil "+AnvilVersion, "scripts/anvil.sh installs it once from npm (make test does)")
	return p
}

var anvilListenRE = regexp.MustCompile(`Listening on (\S+:\d+)`)

// StartAnvil starts a private anvil for the test: a real node, as geth
// --dev is (chain ID 1337, prefunded unlocked developer accounts, a block
// for each transaction), whose clock the test can move (IncreaseTime).
func StartAnvil(t testing.TB) *Node {
	t.Helper()
	bin := AnvilBinary(t)
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", "0", "--chain-id", "1337")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting anvil: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	found := make(chan string, 1)
	var tail tailBuf
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			tail.add(sc.Text())
			if m := anvilListenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- "http://" + m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case u := <-found:
		return dial(t, u)
	case <-done:
		t.Fatalf("anvil exited before serving RPC:\n%s", tail.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("anvil did not serve RPC within a minute:\n%s", tail.String())
	}
	return nil
}

// IncreaseTime moves the node's clock d ahead and mines a block at the
// new time (anvil's and Hardhat's evm_increaseTime and evm_mine; geth
// --dev has neither).
func (n *Node) IncreaseTime(t testing.TB, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ignored any
	if err := n.Client.Client().CallContext(ctx, &ignored, "evm_increaseTime", int64(d/time.Second)); err != nil {
		t.Fatalf("evm_increaseTime: %v (the node must be anvil: StartAnvil)", err)
	}
	if err := n.Client.Client().CallContext(ctx, &ignored, "evm_mine"); err != nil {
		t.Fatalf("evm_mine: %v", err)
	}
}
