package main

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/gethtest"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// TestChainProviderOfflineRequesterWithdraws: two daemons' worth of Spare
// on a real node whose clock moves (anvil). A paid job settles on chain;
// the provider then goes offline for good. The requester asks to close
// its channel, is refused its money while the grace period runs, and once
// the chain's clock passes the lock and the grace period withdraws the
// rest: the provider keeps exactly what it settled, the requester gets
// back exactly the deposit less that, and its ledger holds the channel
// closed with that refund.
func TestChainProviderOfflineRequesterWithdraws(t *testing.T) {
	d := newDevChainOn(t, gethtest.StartAnvil(t))
	boot, _ := startNetwork(t, 0)
	provData := d.dataDir(t)
	prov := walletAddress(t, provData)
	me := walletAddress(t, d.payer)
	d.node.Fund(t, prov, big.NewInt(1e18)) // gas for settlements
	nd := &spareNode{data: provData, args: []string{"--data", provData, "--containerd", testenv.ContainerdSocket(t), "node",
		"--always-available", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0", "--bootstrap", boot, "--interval", "1s",
		"--price", "0.0001", "--network", "local"}}
	nd.start(t)
	provBefore, reqBefore := d.tokens(t, prov), d.tokens(t, me)
	r := spareAt(t, d.payer, "submit", "--no-daemon", "--network", "local", "--bootstrap", boot, "--no-mdns",
		"--image", testenv.Workload(t, "probe"), "--json", "--max-price", "0.01", "--timeout", "1m", "--", "sleep", "2s")
	if r.code != 0 {
		t.Fatalf("submit on chain exited %d: %s", r.code, r.stderr)
	}
	var res market.SubmitResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Units == 0 {
		t.Fatalf("submit printed %q (%v): want a positive cost", r.stdout, err)
	}
	cost := wallet.Amount(res.Units)
	testenv.WaitFor(t, "the provider's settlement", 60*time.Second, func() bool { return d.tokens(t, prov)-provBefore == cost })
	// The provider goes offline for good.
	if err := nd.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = nd.cmd.Wait()

	l, err := wallet.OpenLedger(d.payer, nil)
	if err != nil {
		t.Fatal(err)
	}
	chs, err := l.Channels(context.Background(), me)
	l.Close()
	if err != nil || len(chs) != 1 || chs[0].Backend != evm.BackendName {
		t.Fatalf("the requester's channels: %+v, %v; want the one it paid through", chs, err)
	}
	id, deposit := chs[0].ID.Hex(), chs[0].Deposit
	if spent := reqBefore - d.tokens(t, me); spent != deposit {
		t.Fatalf("the requester's tokens fell by %s; it deposited %s", spent, deposit)
	}
	r = spareAt(t, d.payer, "--json", "wallet", "withdraw", "--network", "local", "--channel", id)
	if r.code != 0 || !strings.Contains(r.stdout, `"state":"closing"`) {
		t.Fatalf("request close: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	r = spareAt(t, d.payer, "wallet", "withdraw", "--network", "local", "--channel", id)
	if r.code != exitFailure || !strings.Contains(r.stderr, "grace period runs until") {
		t.Fatalf("withdraw inside the grace period: exit %d, %s", r.code, r.stderr)
	}
	// Past the job's lock (its maximum duration and slack) and the grace
	// period.
	d.node.IncreaseTime(t, wallet.CloseGrace+2*time.Hour)
	r = spareAt(t, d.payer, "--json", "wallet", "withdraw", "--network", "local", "--channel", id)
	refund := deposit - cost
	if r.code != 0 || !strings.Contains(r.stdout, `"state":"closed"`) || !strings.Contains(r.stdout, `"refund":"`+refund.String()+`"`) {
		t.Fatalf("withdraw after the grace period: exit %d, %s %s; want a refund of %s", r.code, r.stdout, r.stderr, refund)
	}
	if got := reqBefore - d.tokens(t, me); got != cost {
		t.Fatalf("the requester's tokens are %s below where they started; the job cost %s", got, cost)
	}
	if got := d.tokens(t, prov) - provBefore; got != cost {
		t.Fatalf("the provider holds %s more; it settled %s", got, cost)
	}
	l, err = wallet.OpenLedger(d.payer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch, err := l.Channel(context.Background(), chs[0].ID)
	if err != nil || ch.State != "closed" || ch.Refunded != refund {
		t.Fatalf("the requester's ledger after the withdraw: %+v, %v; want closed with %s refunded", ch, err, refund)
	}
}
