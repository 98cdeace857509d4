//go:build linux

package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/hostile"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/internal/testpeer"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/sandbox"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/wallettest"
)

type testProvider struct {
	host   *p2p.Host
	wallet *wallet.Wallet
	prov   *Provider
	dir    string // the daemon's data directory (its LocalAPI socket)
	stop   context.CancelFunc
	done   chan struct{}
}

// providerOption adjusts a test provider's config before New, or
// the provider before it serves, or (ip) the loopback address its host
// listens on instead of 127.0.0.1: providers on 127.0.1.1 and 127.0.2.1
// are on different /24s, distinct network origins to a requester.
type providerOption struct {
	config   func(*Config)
	provider func(*Provider)
	ip       string
	host     func(dir string) *p2p.Host // the provider's host, in place of the default's
}

// startProvider runs a daemon on the test containerd with the market's
// provider side on a loopback host, until the test ends or stop; opts
// adjust the provider before it serves.
func startProvider(t *testing.T, price uint64, credit market.WalletCredit, opts ...providerOption) *testProvider {
	t.Helper()
	dir := t.TempDir()
	sb := testSandbox(t, dir, "market")
	tp := &testProvider{wallet: wallettest.Open(t, dir), done: make(chan struct{})}
	for _, o := range opts {
		if o.ip != "" {
			tp.host = hostOn(t, dir, o.ip)
		}
		if o.host != nil {
			tp.host = o.host(dir)
		}
	}
	if tp.host == nil {
		tp.host = testpeer.Host(t, dir)
	}
	// Test requesters are strangers on the public network paying in IOUs;
	// TestIOUsOnlyFromFriends is where that is refused.
	cfg := Config{Host: tp.host, Wallet: tp.wallet, Sandbox: sb, DataDir: dir, Log: quietLogger(), Credit: credit, IOUs: IOUs{FromStrangers: true},
		Policy: market.Policy{Price: market.Price{PerGPUSecond: price, PerCPUSecond: price}, IntervalSeconds: 1}}
	for _, o := range opts {
		if o.config != nil {
			o.config(&cfg)
		}
	}
	var err error
	tp.prov, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		if o.provider != nil {
			o.provider(tp.prov)
		}
	}
	d := node.NewDaemon(node.DaemonConfig{DataDir: dir, Sandbox: sb, Settings: governor.Settings{AlwaysAvailable: true}, Version: "test",
		Log: quietLogger(), Market: tp.prov, Wallet: tp.wallet})
	tp.dir = dir
	ctx, cancel := context.WithCancel(context.Background())
	tp.stop = cancel
	served := make(chan struct{}, 2)
	go func() { _ = d.Serve(ctx); served <- struct{}{} }()
	go func() { _ = tp.prov.Serve(ctx, d); served <- struct{}{} }()
	go func() { <-served; <-served; close(tp.done) }()
	t.Cleanup(func() { cancel(); <-tp.done })
	testenv.WaitFor(t, "Available", 15*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })
	return tp
}

// dishonest makes a test provider play the hostile one opts describe.
func dishonest(opts ...hostile.ProviderOption) providerOption {
	return providerOption{config: func(c *Config) { c.Faults = hostile.Faults(opts...) }}
}

func testRequester(t *testing.T) *market.Requester {
	dir := t.TempDir()
	return &market.Requester{Host: testpeer.Host(t, dir), Wallet: wallettest.Open(t, dir),
		Blobs: p2p.FileStore{Dir: filepath.Join(dir, "blobs")}, Log: quietLogger()}
}

func imageSpec(t *testing.T, r *market.Requester, name string, cmd ...string) *market.JobSpec {
	t.Helper()
	return archiveSpec(t, r, testenv.Workload(t, name), cmd...)
}

// archiveSpec is a job running the image archive at path.
func archiveSpec(t *testing.T, r *market.Requester, path string, cmd ...string) *market.JobSpec {
	t.Helper()
	d, n, err := market.PutFile(r.Blobs, path)
	if err != nil {
		t.Fatal(err)
	}
	return &market.JobSpec{Image: market.Image{Digest: d, Size: n, Blob: true}, Command: cmd,
		Resources: market.Resources{CPUs: 1000, Memory: 256 << 20}, MaxDuration: market.Duration(2 * time.Minute), MaxPrice: 1000}
}

func connect(t *testing.T, r *market.Requester, ps ...*testProvider) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range ps {
		if err := r.Host.Connect(ctx, p.host.AddrInfo()); err != nil {
			t.Fatal(err)
		}
	}
	// A provider answers with its ad only while free: after a job, once
	// its container is cleaned up (seconds on a loaded machine).
	for _, p := range ps {
		testenv.WaitFor(t, "the provider's ad", time.Minute, func() bool { return hasAd(r.Host, p.host) })
	}
}

func balance(t *testing.T, w *wallet.Wallet) wallet.Balance {
	t.Helper()
	b, err := w.Balance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPaidJobEndToEnd runs the render workload from proposal to final
// voucher and checks outputs and money on both sides.
func TestPaidJobEndToEnd(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{})
	req := testRequester(t)
	connect(t, req, prov)
	spec := imageSpec(t, req, "render")
	out := t.TempDir()
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := req.Submit(ctx, spec, market.SubmitOptions{OutputDir: out, Stdout: &logs, Stderr: &logs, Discovery: 10 * time.Second})
	if err != nil {
		t.Fatalf("Submit: %v (logs: %s)", err, logs.String())
	}
	t.Logf("result: %+v", res)
	if res.ExitCode != 0 || res.Attempts != 1 || res.Provider != prov.host.ID().String() {
		t.Fatalf("result %+v", res)
	}
	if len(res.Outputs) == 0 {
		t.Fatal("no outputs")
	}
	for _, o := range res.Outputs {
		b, err := os.ReadFile(filepath.Join(out, res.Job, o.Path))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != o.SHA256 || len(b) == 0 {
			t.Fatalf("output %s: %d bytes, digest mismatch", o.Path, len(b))
		}
	}
	testenv.WaitFor(t, "the final voucher", 10*time.Second, func() bool { return balance(t, prov.wallet).Earned == wallet.Amount(res.Units) })
	spent, earned := balance(t, req.Wallet).Spent, balance(t, prov.wallet).Earned
	if spent != earned || spent <= 0 {
		t.Fatalf("requester spent %s, provider earned %s", spent, earned)
	}
	t.Logf("paid %s for the job", spent)

	// The outputs, the image and the inputs are the requester's: another
	// peer that knows their digests gets them from neither side.
	stranger := testpeer.Host(t, t.TempDir())
	if err := stranger.Connect(ctx, prov.host.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	if err := stranger.Connect(ctx, req.Host.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	image, err := p2p.ParseDigest(string(spec.Image.Digest))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Outputs {
		d, err := p2p.ParseDigest(o.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		for _, from := range []*p2p.Host{prov.host, req.Host} {
			for _, dg := range []p2p.Digest{d, image} {
				err := stranger.FetchBlob(ctx, from.ID(), dg, filepath.Join(t.TempDir(), "blob"), p2p.FetchOptions{})
				if !errors.Is(err, p2p.ErrBlobNotFound) {
					t.Fatalf("a stranger fetching %s from %s: %v, want not found", dg, from.ID(), err)
				}
			}
		}
	}
}

// TestRequesterStopsPaying: the provider freezes the job past the credit
// limit and ends it when payment stays away.
func TestRequesterStopsPaying(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{Timeout: 2 * time.Second})
	req := hostile.NewRequester(t, hostile.StopPayingAfter(1))
	connect(t, req.Requester, prov)
	spec := imageSpec(t, req.Requester, "probe", "sleep", "5m")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	took := time.Since(start)
	if res.Error != market.ResultCreditLimit {
		t.Fatalf("result %+v, want error credit_limit", res)
	}
	// One receipt paid, then at most two unpaid intervals, a 2 s pause
	// and the stop: well under 20 s, not the job's 5 minutes.
	if took > 20*time.Second {
		t.Fatalf("the provider stopped the unpaid job after %v", took)
	}
	earned := balance(t, prov.wallet).Earned
	if earned <= 0 || earned > 2*100 {
		t.Fatalf("provider earned %s; want one paid interval", earned)
	}
	t.Logf("unpaid job ended after %v; provider earned %s", took, earned)
}

// TestProviderLostReschedules: the first provider disappears mid-job; the
// job completes on the second and the first's receipted work is paid.
func TestProviderLostReschedules(t *testing.T) {
	cheap := startProvider(t, 100, market.WalletCredit{})
	dear := startProvider(t, 200, market.WalletCredit{})
	req := testRequester(t)
	connect(t, req, cheap, dear)
	spec := imageSpec(t, req, "probe", "sleep", "4s")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if b, err := cheap.wallet.Balance(ctx); err == nil && b.Earned > 0 {
				cheap.host.Close() // the provider vanishes from the network
				return
			}
			time.Sleep(50 * time.Millisecond) // poll interval
		}
	}()
	res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second})
	<-killed
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if res.Attempts != 2 || res.Provider != dear.host.ID().String() || res.ExitCode != 0 {
		t.Fatalf("result %+v", res)
	}
	a, b := balance(t, cheap.wallet).Earned, balance(t, dear.wallet).Earned
	spent := balance(t, req.Wallet).Spent
	// The requester paid every receipt it got; the vanished provider may
	// not have received the last voucher, so it holds at most that much.
	if a <= 0 || b <= 0 || a+b > spent || uint64(spent) != res.Units {
		t.Fatalf("spent %s, first provider earned %s, second %s, result says %d", spent, a, b, res.Units)
	}
	t.Logf("first provider paid %s, second %s", a, b)
}

// TestAgreementDepositRecorded: the deposit the requester names in the
// agreement is the channel cap the provider records, on both sides; a
// deposit below the quote's maximum cost is not offered.
func TestAgreementDepositRecorded(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{})
	req := testRequester(t)
	connect(t, req, prov)
	spec := imageSpec(t, req, "probe", "exit", "0")
	maxCost := wallet.Amount(100 * uint64(time.Duration(spec.MaxDuration)/time.Second)) // one core at 100 a second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if _, err := req.Submit(ctx, spec, market.SubmitOptions{Deposit: maxCost - 1, Discovery: 10 * time.Second}); err == nil || !strings.Contains(err.Error(), "deposit") {
		t.Fatalf("Submit with a deposit below the maximum cost %s: %v", maxCost, err)
	}
	deposit := 3 * maxCost
	res, err := req.Submit(ctx, spec, market.SubmitOptions{Deposit: deposit, Discovery: 10 * time.Second})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Submit: %+v, %v", res, err)
	}
	payer, err := req.Wallet.Address()
	if err != nil {
		t.Fatal(err)
	}
	for side, w := range map[string]*wallet.Wallet{"provider": prov.wallet, "requester": req.Wallet} {
		chans, err := w.Ledger.Channels(ctx, payer)
		if err != nil {
			t.Fatal(err)
		}
		if len(chans) == 0 || chans[len(chans)-1].Deposit != deposit {
			t.Fatalf("%s's ledger: channels %+v, want the last with deposit %s", side, chans, deposit)
		}
	}
}

// testSandbox opens a sandbox on the tests' containerd in a namespace of
// its own (named after what), with its work directory under dir; it is
// closed when the test ends. Needs root.
func testSandbox(t *testing.T, dir, what string) *sandbox.Sandbox {
	t.Helper()
	testenv.NeedRoot(t)
	ns := "spare-test-" + what + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sb, err := sandbox.New(context.Background(), sandbox.Config{Socket: testenv.ContainerdSocket(t),
		WorkDir: filepath.Join(dir, "jobs"), Namespace: ns, Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
