package main

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// TestChainSubmitReusesChannel: three `spare submit --network local` to
// the same provider on a real node (geth --dev) open one channel: the
// second job reuses the first's, funded beyond what the first claimed,
// with no transaction of its own, and its vouchers go on from the first's;
// the third, longer than the channel stays locked, extends the lock
// first. The provider settles every job on that channel: its token
// balance rises by exactly their costs.
func TestChainSubmitReusesChannel(t *testing.T) {
	d := newDevChain(t)
	boot, _ := startNetwork(t, 0)
	provData := d.dataDir(t)
	prov := walletAddress(t, provData)
	d.node.Fund(t, prov, big.NewInt(1e18)) // gas for settlements
	nd := &spareNode{data: provData, args: []string{"--data", provData, "--containerd", testenv.ContainerdSocket(t), "node",
		"--always-available", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0", "--bootstrap", boot, "--interval", "1s",
		"--price", "0.0001", "--network", "local"}}
	nd.start(t)
	before := d.tokens(t, prov)
	probe := testenv.Workload(t, "probe")
	submit := func(extra ...string) (market.SubmitResult, string) {
		t.Helper()
		args := append([]string{"submit", "--no-daemon", "--network", "local", "--bootstrap", boot, "--no-mdns",
			"--image", probe, "--json", "--max-price", "0.01", "--timeout", "1m"}, extra...)
		r := spareAt(t, d.payer, append(args, "--", "sleep", "2s")...)
		if r.code != 0 {
			t.Fatalf("submit on chain exited %d: %s", r.code, r.stderr)
		}
		var res market.SubmitResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Units == 0 {
			t.Fatalf("submit printed %q (%v): want a positive cost", r.stdout, err)
		}
		return res, r.stderr
	}
	first, log1 := submit("--deposit", "5")
	if !strings.Contains(log1, "open: sent 0x") {
		t.Fatalf("the first submit opened no channel:\n%s", log1)
	}
	c1 := wallet.Amount(first.Units)
	testenv.WaitFor(t, "the first job's settlement", 60*time.Second, func() bool { return d.tokens(t, prov)-before == c1 })
	second, log2 := submit()
	for _, tx := range []string{"open: sent", "approve: sent", "topUp: sent"} {
		if strings.Contains(log2, tx) {
			t.Errorf("the second submit sent a transaction (%s) on a channel funded for it:\n%s", tx, log2)
		}
	}
	c2 := wallet.Amount(second.Units)
	testenv.WaitFor(t, "the second job's settlement", 60*time.Second, func() bool { return d.tokens(t, prov)-before == c1+c2 })
	// A third job may run longer than the channel stays locked: the
	// requester extends the lock (a top-up of nothing, no approve), or the
	// provider would refuse the channel (channel_lock).
	third, log3 := submit("--timeout", "45m")
	if !strings.Contains(log3, "topUp: sent") || strings.Contains(log3, "approve: sent") || strings.Contains(log3, "open: sent") {
		t.Errorf("the third submit, 45 min on a channel locked for 16, did not only extend the lock:\n%s", log3)
	}
	c3 := wallet.Amount(third.Units)
	testenv.WaitFor(t, "the third job's settlement", 60*time.Second, func() bool { return d.tokens(t, prov)-before == c1+c2+c3 })
	payer := walletAddress(t, d.payer)
	l, err := wallet.OpenLedger(d.payer, nil) // the submits have exited
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	chans, err := l.Channels(t.Context(), payer)
	if err != nil {
		t.Fatal(err)
	}
	if len(chans) != 1 {
		t.Errorf("the requester holds %d channels after three jobs, want 1: %+v", len(chans), chans)
	}
	t.Logf("three jobs (%s + %s + %s) on one channel, settled on chain: provider +%s %s", c1, c2, c3, c1+c2+c3, d.net.Symbol)
}
