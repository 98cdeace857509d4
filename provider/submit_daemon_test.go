//go:build linux

package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/internal/testpeer"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// requesterNode is a daemon that provides and also submits jobs for its
// user, as `spare node` does.
type requesterNode struct {
	d      *node.Daemon
	c      *localapi.Client
	req    *market.Requester
	wallet *wallet.Wallet
}

func startRequesterNode(t *testing.T, price uint64) *requesterNode {
	t.Helper()
	dir := t.TempDir()
	sb := testSandbox(t, dir, "submit")
	h, w := testpeer.Host(t, dir), wallettest.Open(t, dir)
	prov, err := New(Config{Host: h, Wallet: w, Sandbox: sb, DataDir: dir, Log: quietLogger(), IOUs: IOUs{FromStrangers: true},
		Policy: market.Policy{Price: market.Price{PerGPUSecond: price, PerCPUSecond: price}, IntervalSeconds: 1}})
	if err != nil {
		t.Fatal(err)
	}
	n := &requesterNode{wallet: w, c: localapi.NewClient(dir),
		req: &market.Requester{Host: h, Wallet: w, Blobs: p2p.FileStore{Dir: filepath.Join(dir, "blobs")}, Trust: market.NewMemTrust(), Log: quietLogger()}}
	n.d = node.NewDaemon(node.DaemonConfig{DataDir: dir, Sandbox: sb, Settings: governor.Settings{AlwaysAvailable: true}, Version: "test",
		Log: quietLogger(), Market: prov, Submitter: n.req})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = n.d.Serve(ctx) }()
	go func() { defer wg.Done(); _ = prov.Serve(ctx, n.d) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	testenv.WaitFor(t, "Available", 15*time.Second, func() bool { return n.d.Status().State == localapi.StateAvailable })
	return n
}

// hasAd reports whether h gets p's ad when it asks p (as a requester's
// discovery does).
func hasAd(h *p2p.Host, p *p2p.Host) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := market.QueryAd(ctx, h, p.ID())
	return err == nil && a.Peer == p.ID()
}

// TestSubmitThroughDaemonJob: a render submitted through a daemon that
// also provides runs on the other provider (never on the daemon itself),
// with the same output as the in-process requester's render and money
// that adds up on every wallet; a cancelled request ends the job in the
// daemon with the receipted work paid.
func TestSubmitThroughDaemonJob(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{})
	rn := startRequesterNode(t, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := rn.req.Host.Connect(ctx, prov.host.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	cancel()
	testenv.WaitFor(t, "the provider's ad", 20*time.Second, func() bool { return hasAd(rn.req.Host, prov.host) })

	spec := imageSpec(t, rn.req, "render")
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var logs bytes.Buffer
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ev, err := rn.c.Submit(ctx, localapi.SubmitRequest{Spec: raw, OutputDir: out, Discovery: "10s"},
		func(_ string, b []byte) { logs.Write(b) })
	if err != nil || ev.Error != nil {
		t.Fatalf("submit through the daemon: %v %+v (logs %s)", err, ev.Error, logs.String())
	}
	var resD market.SubmitResult
	if err := json.Unmarshal(ev.Result, &resD); err != nil {
		t.Fatal(err)
	}
	if resD.ExitCode != 0 || resD.Attempts != 1 || resD.Provider != prov.host.ID().String() || len(resD.Outputs) != 1 {
		t.Fatalf("through the daemon: %+v (the daemon is %s)", resD, rn.req.Host.ID())
	}
	b, err := os.ReadFile(filepath.Join(out, resD.Job, resD.Outputs[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != resD.Outputs[0].SHA256 {
		t.Fatal("the fetched output does not match its digest")
	}

	// The same job from an in-process requester: the same frame.
	inproc := testRequester(t)
	connect(t, inproc, prov)
	resP, err := inproc.Submit(ctx, imageSpec(t, inproc, "render"), market.SubmitOptions{OutputDir: t.TempDir(), Discovery: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if resP.ExitCode != 0 || len(resP.Outputs) != 1 || resP.Outputs[0].Path != resD.Outputs[0].Path || resP.Outputs[0].SHA256 != resD.Outputs[0].SHA256 {
		t.Fatalf("in process %+v, through the daemon %+v", resP, resD)
	}
	// Money: each requester spent its result's cost; the providers (the
	// in-process requester may have picked the daemon's provider side)
	// earned the sum.
	total := wallet.Amount(resD.Units + resP.Units)
	testenv.WaitFor(t, "the final vouchers", 10*time.Second, func() bool {
		return balance(t, prov.wallet).Earned+balance(t, rn.wallet).Earned == total
	})
	if s := balance(t, rn.wallet).Spent; s != wallet.Amount(resD.Units) {
		t.Fatalf("the daemon spent %s, its result says %d", s, resD.Units)
	}
	if s := balance(t, inproc.Wallet).Spent; s != wallet.Amount(resP.Units) {
		t.Fatalf("the in-process requester spent %s, its result says %d", s, resP.Units)
	}

	// Cancelled: the client goes away while the job runs. The result of
	// the job before came ahead of its container's cleanup, which holds
	// the provider until it is done: a proposal before then is refused
	// busy, and the daemon has no other provider to try (on a loaded
	// machine the submit failed so, and no receipt ever came).
	testenv.WaitFor(t, "the provider to take work again", time.Minute, func() bool { return hasAd(rn.req.Host, prov.host) })
	probe := imageSpec(t, rn.req, "probe", "sleep", "2m")
	raw, err = json.Marshal(probe)
	if err != nil {
		t.Fatal(err)
	}
	earnedBefore, spentBefore := balance(t, prov.wallet).Earned, balance(t, rn.wallet).Spent
	cctx, ccancel := context.WithCancel(context.Background())
	defer ccancel()
	gone := make(chan error, 1)
	go func() {
		ev, err := rn.c.Submit(cctx, localapi.SubmitRequest{Spec: raw, Discovery: "10s"}, nil)
		if err == nil && ev.Error != nil {
			err = fmt.Errorf("%s: %s", ev.Error.Code, ev.Error.Message)
		}
		gone <- err
	}()
	testenv.WaitFor(t, "a paid receipt", 2*time.Minute, func() bool {
		select {
		case err := <-gone:
			t.Fatalf("the submit ended before a receipt was paid: %v", err)
		default:
		}
		return balance(t, prov.wallet).Earned > earnedBefore
	})
	ccancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled submit returned %v", err)
	}
	testenv.WaitFor(t, "the daemon to drop the job", 20*time.Second, func() bool {
		return rn.d.SubmittedJobs() == 0
	})
	testenv.WaitFor(t, "the provider to end the job", 30*time.Second, func() bool { return prov.prov.d.Status().Job == "" })
	paid := balance(t, rn.wallet).Spent - spentBefore
	if earned := balance(t, prov.wallet).Earned - earnedBefore; earned != paid || paid <= 0 {
		t.Fatalf("cancelled job: the provider earned %s, the daemon paid %s", earned, paid)
	}
}
