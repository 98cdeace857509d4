package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/gethtest"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/settings"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// TestDemoOnChain: `spare demo --headless --network local` on a geth --dev
// node deploys the contracts, runs the jobs paid through the escrow with
// real transactions (one channel opened and reused, a settlement after
// each job), and the report lists them; the provider's tokens on chain
// rose by exactly what the jobs cost.
//
// The playground's data dir is kept: a second run on a development chain
// started afresh (the same chain ID, nothing deployed, the provider's
// settlements of the first run pending in its ledger) deploys again and
// is paid the same way, and the first chain's channels are retired, not
// left pending. A third run with no --network follows the network chosen
// on the playground's Settings page.
func TestDemoOnChain(t *testing.T) {
	testenv.Workload(t, "render")
	testenv.Workload(t, "ocr")
	var reports []string
	for i, node := range []*gethtest.Node{gethtest.Start(t), gethtest.StartFresh(t)} {
		reports = append(reports, demoOnChain(t, node))
		if t.Failed() {
			t.Fatalf("run %d failed", i+1)
		}
	}
	for _, tx := range regexp.MustCompile(`0x[0-9a-f]{64}`).FindAllString(reports[0], -1) {
		if strings.Contains(reports[1], tx) {
			t.Errorf("the second run sent the first chain's transaction %s to the new chain", tx)
		}
	}
	// The network chosen on the playground's Settings page (saved in its
	// provider's data dir, as the page saves it) applies at its next
	// start, with no flag: the preset the second run wrote names its node.
	saved := settings.FromGovernor(governor.Settings{})
	saved.Network = evm.LocalNetwork
	if err := settings.Save(filepath.Join(dataDir(t), "demo", "provider"), saved); err != nil {
		t.Fatal(err)
	}
	r := spare(t, "demo", "--headless", "--jobs", "1", "--workloads", os.Getenv("SPARE_WORKLOADS"))
	if r.code != 0 {
		t.Fatalf("demo with the network from Settings exited %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "spare demo: money on local (chain 1337") || !strings.Contains(r.stdout, "1 job(s) run, 0 failed") ||
		!strings.Contains(r.stdout, "transaction(s) on local (chain 1337):") || strings.Contains(r.stderr, "deploying the escrow") {
		t.Fatalf("the demo did not settle on the network chosen in Settings (the second run's contracts):\n%s\n%s", r.stderr, r.stdout)
	}
	l, err := wallet.OpenLedger(filepath.Join(dataDir(t), "demo", "provider"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accts, err := l.Accounts(context.Background())
	if err != nil || len(accts) == 0 {
		t.Fatalf("the provider's accounts: %v, %v", accts, err)
	}
	for _, a := range accts {
		rows, err := l.Pending(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rows {
			if p.State != "closed" {
				t.Errorf("after two runs the provider still waits on %s on channel %s (%s)", p.Amount, p.Channel.Hex(), p.State)
			}
		}
	}
}

// demoOnChain runs the playground on node's chain and returns its report.
func demoOnChain(t *testing.T, node *gethtest.Node) string {
	t.Helper()
	r := spare(t, "demo", "--headless", "--jobs", "2", "--workloads", os.Getenv("SPARE_WORKLOADS"), "--network", "local", "--rpc", node.URL)
	if r.code != 0 {
		t.Fatalf("demo on chain exited %d: %s", r.code, r.stderr)
	}
	t.Logf("report:\n%s", r.stdout)
	for _, want := range []string{"deploying the escrow", "requester: open: sent 0x", "provider: settle: sent 0x"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the demo's progress lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, want := range []string{"2 job(s) run, 0 failed", "every unit accounted for", "transaction(s) on local (chain 1337):"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^  requester open `).FindAllString(r.stdout, -1)); n != 1 {
		t.Errorf("the report lists %d channel opens for two jobs with one provider, want 1", n)
	}
	if n := len(regexp.MustCompile(`(?m)^  provider +settle +0x[0-9a-f]{64}`).FindAllString(r.stdout, -1)); n < 1 {
		t.Errorf("the report lists no settlement transaction")
	}
	if strings.Contains(r.stdout, "topUp") {
		t.Errorf("the playground's channel was topped up; its deposit covers several jobs:\n%s", r.stdout)
	}
	m := regexp.MustCompile(`costing ([0-9.]+) `).FindStringSubmatch(r.stdout)
	g := regexp.MustCompile(`provider's tokens on chain: [0-9.]+ tUSD \(\+([0-9.]+) this run\)`).FindStringSubmatch(r.stdout)
	if m == nil || g == nil {
		t.Fatalf("no cost or token line in the report:\n%s", r.stdout)
	}
	cost, err1 := wallet.ParseAmount(m[1])
	got, err2 := wallet.ParseAmount(g[1])
	if err1 != nil || err2 != nil || cost <= 0 || got != cost {
		t.Errorf("the provider's tokens rose by %s; the jobs cost %s", g[1], m[1])
	}
	return r.stdout
}
