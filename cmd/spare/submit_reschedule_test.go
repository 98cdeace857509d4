package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// renderLong makes the render run for several seconds (about 6 s on one
// core here), long enough to kill its provider after a receipt.
var renderLong = []string{"+W1600", "+H1200"}

// nodePrice is what startNetwork's nodes charge per core-second, in the
// token's smallest unit ("0.0001").
const nodePrice = 100

// TestSubmitProviderKilledAcrossProcesses: a bootstrap node, two
// `spare node` processes and `spare submit` on loopback. The provider
// running the render is SIGKILLed after it was paid for at least one
// receipt; the job is rescheduled on the other provider and its frame is
// byte-identical to a local `spare run` of the same job. The killed
// provider's receipted work is paid: `--json` lists both tries with what
// each cost, the killed provider's ledger (read after the kill, and by
// the node restarted on the same data directory) holds the vouchers it
// received, at most one voucher short of what the requester sent, and the
// requester's wallet spent exactly the reported cost.
//
// The network is closed: no mDNS, so providers of other tests on this
// machine stay out.
func TestSubmitProviderKilledAcrossProcesses(t *testing.T) {
	render := testenv.Workload(t, "render")
	ref := t.TempDir()
	if r := spare(t, append([]string{"run", "--image", render, "--output", ref, "--"}, renderLong...)...); r.code != 0 {
		t.Fatalf("reference render exited %d: %s", r.code, r.stderr)
	}
	want := fileSHA(t, filepath.Join(ref, "frame.bmp"))

	// The requester's data directory outlives the test run (dataDir):
	// compare its spending before and after.
	spentBefore := parseAmount(t, walletBalance(t, dataDir(t)).Spent)
	boot, nodes := startNetwork(t, 2)
	out := t.TempDir()
	sub := exec.Command(spareBin, append([]string{"--data", dataDir(t), "--containerd", testenv.ContainerdSocket(t),
		"submit", "--bootstrap", boot, "--no-mdns", "--image", render, "--output", out, "--json", "--max-price", "0.01", "--"},
		renderLong...)...)
	var stdout, stderr bytes.Buffer
	sub.Stdout, sub.Stderr = &stdout, &stderr
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sub.Wait() }()
	t.Cleanup(func() {
		if sub.ProcessState == nil {
			_ = sub.Process.Kill()
			<-exited
		}
	})

	// Kill whichever provider runs the job once it has been paid.
	killed, other := waitForPaidJob(t, nodes, exited)
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = killed.cmd.Wait()
	t.Logf("killed provider %s mid-job", killed.peerID)
	// Its ledger as the kill left it; then it restarts on the same data
	// directory at once, which also removes the job the kill orphaned.
	earned := walletBalance(t, killed.data).Earned
	killed.start(t)

	var err error
	select {
	case err = <-exited:
	case <-time.After(3 * time.Minute):
		t.Fatalf("spare submit did not finish after the kill; stderr: %s", stderr.String())
	}
	if err != nil {
		t.Fatalf("spare submit: %v; stderr: %s", err, stderr.String())
	}
	var res market.SubmitResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("--json printed %q: %v", stdout.String(), err)
	}
	t.Logf("result: %+v", res)
	if res.ExitCode != 0 || res.Attempts != 2 || res.Provider != other.peerID || len(res.Tries) != 2 {
		t.Fatalf("result %+v: want exit 0 after 2 attempts, on %s", res, other.peerID)
	}
	first, second := res.Tries[0], res.Tries[1]
	if first.Provider != killed.peerID || first.Units == 0 || first.Error == "" || second.Provider != other.peerID || second.Error != "" {
		t.Fatalf("tries %+v: want the killed provider paid for its receipts, then the other", res.Tries)
	}
	if first.Units+second.Units != res.Units {
		t.Fatalf("tries cost %d + %d, result says %d", first.Units, second.Units, res.Units)
	}
	if len(res.Outputs) != 1 || res.Outputs[0].Path != "frame.bmp" || res.Outputs[0].SHA256 != want {
		t.Fatalf("outputs %+v, want frame.bmp with the reference digest %s", res.Outputs, want)
	}
	if got := fileSHA(t, filepath.Join(res.OutputDir, "frame.bmp")); got != want {
		t.Fatalf("fetched frame.bmp has sha256 %s, the reference render %s", got, want)
	}

	// The requester's ledger spent exactly the reported cost.
	if spent := parseAmount(t, walletBalance(t, dataDir(t)).Spent) - spentBefore; spent != wallet.Amount(res.Units) {
		t.Fatalf("requester's wallet spent %s on the job, --json says %s", spent, res.Cost)
	}
	// The killed provider kept what it was paid: every voucher it received
	// was recorded before it was acknowledged. The requester may have sent
	// one more the kill cut off: at most one receipt, which covers at most
	// two 1 s intervals on one core.
	if amt := parseAmount(t, earned); amt <= 0 || uint64(amt) > first.Units || first.Units-uint64(amt) > 2*nodePrice {
		t.Fatalf("killed provider's ledger holds %s earned; the requester paid it %s", earned, first.Cost)
	}
	// Restarted, it comes back with its money.
	st, err := localapi.NewClient(killed.data).Status(context.Background())
	if err != nil || st.EarnedToday != earned || st.State != localapi.StateAvailable {
		t.Fatalf("restarted provider: %+v, %v; want Available with %s earned today", st, err, earned)
	}
	// The other provider receives the final voucher for its whole run.
	waitForEarned(t, other, second.Cost)
	t.Logf("killed provider paid %s (requester sent %s), the other %s; total %s", earned, first.Cost, second.Cost, res.Cost)
}

// waitForPaidJob polls the nodes until one runs a job and has earned
// something for it; it returns that node and the other.
func waitForPaidJob(t *testing.T, nodes []*spareNode, exited <-chan error) (*spareNode, *spareNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		for i, nd := range nodes {
			s, err := localapi.NewClient(nd.data).Status(ctx)
			if err != nil || s.Job == "" {
				continue
			}
			if amt, err := wallet.ParseAmount(s.EarnedToday); err == nil && amt > 0 {
				return nd, nodes[1-i]
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("spare submit ended (%v) before a provider was paid: make the job longer", err)
		case <-ctx.Done():
			t.Fatal("no provider was paid for a running job in 2 minutes")
		case <-time.After(50 * time.Millisecond): // poll interval
		}
	}
}

func waitForEarned(t *testing.T, nd *spareNode, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	for {
		s, err := localapi.NewClient(nd.data).Status(ctx)
		if err == nil && s.EarnedToday == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("provider %s earned %q, want %s (%v)", nd.peerID, s.EarnedToday, want, err)
		case <-time.After(100 * time.Millisecond): // poll interval
		}
	}
}

// walletBalance runs `spare wallet balance --json` on a data directory.
func walletBalance(t *testing.T, data string) balanceJSON {
	t.Helper()
	cmd := exec.Command(spareBin, "--data", data, "wallet", "balance", "--json")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("wallet balance --data %s: %v: %s", data, err, errb.String())
	}
	var bal balanceJSON
	if err := json.Unmarshal(b, &bal); err != nil {
		t.Fatalf("wallet balance printed %q: %v", b, err)
	}
	return bal
}

func parseAmount(t *testing.T, s string) wallet.Amount {
	t.Helper()
	a, err := wallet.ParseAmount(s)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return a
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
