package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet/evm"
)

// TestChainNetworkFromSettings: with a network chosen in Settings and no
// flag, the wallet verbs settle on it (deposit sends real transactions,
// balance reads the chain, doctor checks it); --network ledger wins over
// it; a chosen network that is not a preset is an error naming Settings,
// never a fallback to the ledger.
func TestChainNetworkFromSettings(t *testing.T) {
	d := newDevChain(t)
	payee := common.HexToAddress("0x00000000000000000000000000000000000000b1")
	me := walletAddress(t, d.payer)
	before := d.tokens(t, me)
	chooseNetwork(t, d.payer, evm.LocalNetwork)

	r := spareAt(t, d.payer, "--json", "wallet", "deposit", "--payee", payee.Hex(), "--amount", "2")
	var out map[string]string
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out["network"] != evm.LocalNetwork || !strings.Contains(r.stderr, "open: sent 0x") {
		t.Fatalf("deposit with the network chosen in Settings: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
	if got := before - d.tokens(t, me); got != 2_000_000 {
		t.Fatalf("the wallet's tokens on chain fell by %s, want 2.000000", got)
	}
	var b balanceJSON
	r = spareAt(t, d.payer, "--json", "wallet", "balance")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &b) != nil || b.Network != evm.LocalNetwork || b.OnChain != (before-2_000_000).String() {
		t.Fatalf("balance with the network chosen in Settings: exit %d, %q %s; want on chain %s", r.code, r.stdout, r.stderr, before-2_000_000)
	}
	r = spareAt(t, d.payer, "--json", "wallet", "balance", "--network", "ledger")
	b = balanceJSON{}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &b) != nil || b.Network != "" || b.OnChain != "" || b.Deposited != "2.000000" {
		t.Fatalf("balance --network ledger: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
	r = spareAt(t, d.payer, "wallet", "deposit", "--network", "ledger", "--payee", payee.Hex(), "--amount", "1")
	if r.code != 0 || strings.Contains(r.stderr, "sent 0x") || d.tokens(t, me) != before-2_000_000 {
		t.Fatalf("deposit --network ledger sent on chain or failed: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if r := spareAt(t, d.payer, "wallet", "balance", "--network", "ledger", "--rpc", d.node.URL); r.code != exitUsage ||
		!strings.Contains(r.stderr, "--rpc") {
		t.Errorf("--network ledger with --rpc: exit %d, %s", r.code, r.stderr)
	}
	doc := spareAt(t, d.payer, "--json", "doctor")
	var dr struct {
		Checks []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(doc.stdout), &dr); err != nil {
		t.Fatalf("doctor --json: %v: %s", err, doc.stdout)
	}
	ok := map[string]bool{}
	for _, c := range dr.Checks {
		ok[c.Name] = c.Status == "ok"
	}
	if !ok["chain rpc"] || !ok["chain id"] || !ok["chain contracts"] || !ok["chain gas"] {
		t.Errorf("doctor with the network chosen in Settings: chain checks %v: %s", ok, doc.stdout)
	}

	// A chosen network that is not a preset here.
	chooseNetwork(t, d.payer, "nosuch")
	for _, args := range [][]string{{"wallet", "balance"}, {"wallet", "deposit", "--payee", payee.Hex(), "--amount", "1"}} {
		r := spareAt(t, d.payer, args...)
		if r.code == 0 || !strings.Contains(r.stderr, `the network chosen in Settings (nosuch)`) || !strings.Contains(r.stderr, `no network "nosuch"`) {
			t.Errorf("%v with an unknown network in Settings: exit %d, %s", args, r.code, r.stderr)
		}
	}
}
