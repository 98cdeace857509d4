package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/internal/promtest"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// addressOf is `spare wallet address` for a data dir.
func addressOf(t *testing.T, data string) common.Address {
	t.Helper()
	r := spareAt(t, data, "--json", "wallet", "address")
	var a struct{ Address string }
	if err := json.Unmarshal([]byte(r.stdout), &a); r.code != 0 || err != nil || !common.IsHexAddress(a.Address) {
		t.Fatalf("wallet address exited %d (%v): %s %s", r.code, err, r.stdout, r.stderr)
	}
	return common.HexToAddress(a.Address)
}

// TestMetricsAndRecordsAfterAPaidJob: a requester pays a `spare node`
// for a job that runs a few seconds and one that exits 7. The provider's
// /metrics then counts both jobs by outcome, shows the wallet's figures as
// `spare wallet balance` does (in the token's smallest unit) and as many
// receipts and vouchers as `spare wallet records` exports, and passes
// `promtool check metrics`. Each side's exported records say they were
// signed under the ledger backend's domain (chain 0, contract 0x0) and
// verify with ethers, each signature by the party the rules require; a
// record changed after signing does not.
func TestMetricsAndRecordsAfterAPaidJob(t *testing.T) {
	// A small disk reserve: the machine's disk is shared with other
	// tests, and the default (a tenth of it) can leave no room for a job.
	boot, _ := startNetwork(t, 0)
	prov, req := startNode(t, boot, "--reserve-disk", "2G").data, t.TempDir()
	probe := testenv.Workload(t, "probe")
	submit := func(args ...string) cliResult {
		return spareAt(t, req, append([]string{"--json", "submit", "--bootstrap", boot, "--no-mdns", "--image", probe, "--max-price", "0.01", "--"}, args...)...)
	}
	if r := submit("sleep", "3s"); r.code != 0 {
		t.Fatalf("paid job exited %d: %s", r.code, r.stderr)
	}
	if r := submit("exit", "7"); r.code != 7 {
		t.Fatalf("exit 7 exited %d: %s", r.code, r.stderr)
	}
	paid := spent(t, req)
	testenv.WaitFor(t, "the provider's final vouchers", 10*time.Second, func() bool { return earned(t, prov) == paid })

	// Records, as the CLI exports them.
	records := func(data string) (jsonl []byte, kinds map[string]int) {
		r := spareAt(t, data, "--json", "wallet", "records")
		if r.code != 0 {
			t.Fatalf("wallet records exited %d: %s", r.code, r.stderr)
		}
		kinds = map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var rec wallet.ExportRecord
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("records line %q: %v", line, err)
			}
			if rec.Domain.ChainID != "0" || rec.Domain.VerifyingContract != (common.Address{}) || rec.Domain.Name != wallet.DomainName {
				t.Errorf("a ledger-backend %s names domain %+v", rec.Kind, rec.Domain)
			}
			kinds[rec.Kind]++
		}
		return []byte(r.stdout), kinds
	}
	provJSON, provKinds := records(prov)
	reqJSON, reqKinds := records(req)
	if provKinds[wallet.RecordAgreement] != 2 || provKinds[wallet.RecordReceipt] < 3 || provKinds[wallet.RecordVoucher] < 2 {
		t.Fatalf("the provider's records: %v", provKinds)
	}
	if reqKinds[wallet.RecordAgreement] != 2 || reqKinds[wallet.RecordReceipt] != provKinds[wallet.RecordReceipt] {
		t.Fatalf("the requester's records %v, the provider's %v", reqKinds, provKinds)
	}
	pa, ra := addressOf(t, prov), addressOf(t, req)
	roles := map[string]common.Address{"requester": ra, "signer": ra, "payee": pa, "provider": pa}
	wallettest.CheckWithEthers(t, provJSON, roles)
	wallettest.CheckWithEthers(t, reqJSON, roles)
	if r := spareAt(t, prov, "wallet", "records"); r.code != 0 || !strings.Contains(r.stdout, "ledger (chain 0)") ||
		!strings.Contains(r.stdout, "receipt") || !strings.Contains(r.stdout, "provider "+pa.Hex()[:8]) {
		t.Fatalf("wallet records exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The provider's /metrics.
	s := promtest.Get(t, prov)
	s.Promtool(t)
	var bal balanceJSON
	if r := spareAt(t, prov, "--json", "wallet", "balance"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &bal) != nil {
		t.Fatalf("wallet balance exited %d: %s", r.code, r.stderr)
	}
	units := func(s string) float64 {
		a, err := wallet.ParseAmount(s)
		if err != nil {
			t.Fatal(err)
		}
		return float64(a)
	}
	addr := []string{"address", pa.Hex()}
	for _, w := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"spare_jobs_started_total", nil, 2},
		{"spare_jobs_finished_total", nil, 1},
		{"spare_jobs_failed_total", []string{"reason", "exit_code"}, 1},
		{"spare_wallet_earned_units", addr, units(bal.Earned)},
		{"spare_wallet_earned_units", addr, float64(paid)},
		{"spare_wallet_settled_units", addr, units(bal.Settled)},
		{"spare_wallet_pending_units", addr, units(bal.Pending)},
		{"spare_receipts_total", []string{"side", "provider"}, float64(provKinds[wallet.RecordReceipt])},
		{"spare_receipts_total", []string{"side", "requester"}, 0},
		{"spare_vouchers_total", []string{"side", "provider"}, float64(provKinds[wallet.RecordVoucher])},
		{"spare_agreements_total", nil, 2},
		{"spare_settlement_transactions_total", nil, 0},
		{"spare_ledger_up", nil, 1},
		{"spare_build_info", []string{"version", version}, 1},
	} {
		if got := s.Must(t, w.name, w.labels...); got != w.want {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.want)
		}
	}
	if secs := s.Must(t, "spare_job_seconds_total"); secs < 3 || secs > 120 {
		t.Errorf("spare_job_seconds_total = %v after a 3 s job and a short one", secs)
	}
	if !bytes.Contains(s.Text, []byte("# HELP spare_wallet_earned_units")) || !bytes.Contains(s.Text, []byte("smallest unit")) {
		t.Errorf("the money gauges' help does not name their unit:\n%s", s.Text)
	}
	t.Logf("scrape excerpt:\n%s", excerpt(s.Text, "spare_"))
	t.Logf("first exported record:\n%s", bytes.SplitN(provJSON, []byte("\n"), 2)[0])
}

// excerpt keeps the lines of text that mention prefix.
func excerpt(text []byte, prefix string) string {
	var out []string
	for _, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
