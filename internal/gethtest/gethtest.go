// Package gethtest gives tests a real Ethereum node: geth in --dev mode
// (one prefunded, unlocked developer account; a block every second), built
// from the go-ethereum version this module requires (scripts/geth.sh).
//
// Under scripts/with-services.sh one node serves every test package
// (SPARE_TEST_RPC names it); each test deploys its own contracts and uses
// fresh keys, so they do not meet. Without it, Start runs a private node
// for the test.
package gethtest

import (
	"bufio"
	"context"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sparegpu/spare/internal/testenv"
)

// ChainID is geth --dev's chain ID.
const ChainID = 1337

// Node is a running dev-mode node.
type Node struct {
	URL    string
	Client *ethclient.Client
}

const module = "github.com/ethereum/go-ethereum"

// Binary is the cached geth scripts/geth.sh builds, or SPARE_TEST_GETH.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SPARE_TEST_GETH"); p != "" {
		return p
	}
	ver := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == module {
				ver = d.Version
			}
		}
	}
	if ver == "" { // test binaries carry no dependency list: ask the go tool
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", module).Output()
		if err != nil {
			t.Fatalf("reading go-ethereum's version (go list -m %s): %v", module, err)
		}
		ver = strings.TrimSpace(string(out))
	}
	cache := os.Getenv("SPARE_GETH_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "spare", "geth")
	}
	p := filepath.Join(cache, ver, "geth")
	_, err := os.Stat(p)
	testenv.Need(t, err == nil, "geth "+ver, "scripts/geth.sh builds it once from the module proxy (make test does)")
	return p
}

var endpointRE = regexp.MustCompile(`HTTP server started\s+endpoint=(\S+)`)

// Start returns the shared node (SPARE_TEST_RPC) or starts a private one
// that stops when the test ends.
func Start(t testing.TB) *Node {
	t.Helper()
	url := os.Getenv("SPARE_TEST_RPC")
	if url == "" {
		url = startPrivate(t)
	}
	return dial(t, url)
}

// StartFresh starts a private node even under with-services.sh: a chain
// of its own from its genesis, as a developer's `geth --dev` is after a
// restart (the same chain ID, nothing deployed).
func StartFresh(t testing.TB) *Node {
	t.Helper()
	return dial(t, startPrivate(t))
}

func dial(t testing.TB, url string) *Node {
	t.Helper()
	// The shared node may be busy mining for every package's tests.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		t.Fatalf("dialling geth at %s: %v", url, err)
	}
	t.Cleanup(c.Close)
	id, err := c.ChainID(ctx)
	if err != nil || id.Int64() != ChainID {
		t.Fatalf("geth at %s: chain ID %v, %v; want %d", url, id, err, ChainID)
	}
	return &Node{URL: url, Client: c}
}

func startPrivate(t testing.TB) string {
	bin := Binary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--dev", "--dev.period", "1", "--datadir", dir, "--ipcdisable",
		"--http", "--http.addr", "127.0.0.1", "--http.port", "0", "--http.api", "eth,net,web3",
		"--authrpc.port", "0", "--port", "0", "--nodiscover", "--maxpeers", "0", "--verbosity", "3")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting geth: %v", err)
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
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			tail.add(sc.Text())
			if m := endpointRE.FindStringSubmatch(sc.Text()); m != nil {
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
		return u
	case <-done:
		t.Fatalf("geth exited before serving RPC:\n%s", tail.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("geth did not serve RPC within a minute:\n%s", tail.String())
	}
	return ""
}

// tailBuf keeps geth's last lines for a failure message.
type tailBuf struct {
	mu    sync.Mutex
	lines []string
}

func (b *tailBuf) add(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lines = append(b.lines, s); len(b.lines) > 30 {
		b.lines = b.lines[1:]
	}
}

func (b *tailBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// Fund sends wei from the developer account to a and waits until it is
// mined.
func (n *Node) Fund(t testing.TB, a common.Address, wei *big.Int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var accts []common.Address
	if err := n.Client.Client().CallContext(ctx, &accts, "eth_accounts"); err != nil || len(accts) == 0 {
		t.Fatalf("geth's developer account: %v (%d accounts)", err, len(accts))
	}
	var tx common.Hash
	arg := map[string]any{"from": accts[0], "to": a, "value": (*hexutil.Big)(wei)}
	if err := n.Client.Client().CallContext(ctx, &tx, "eth_sendTransaction", arg); err != nil {
		t.Fatalf("funding %s: %v", a.Hex(), err)
	}
	n.WaitMined(t, tx)
}

// WaitMined waits for tx's receipt and fails the test unless it succeeded.
func (n *Node) WaitMined(t testing.TB, tx common.Hash) *types.Receipt {
	t.Helper()
	var rc *types.Receipt
	testenv.WaitFor(t, fmt.Sprintf("transaction %s mined", tx.Hex()), 60*time.Second, func() bool {
		r, err := n.Client.TransactionReceipt(context.Background(), tx)
		rc = r
		return err == nil
	})
	if rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("transaction %s reverted", tx.Hex())
	}
	return rc
}
