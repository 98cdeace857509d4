package evm

import (
	"context"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/internal/gethtest"
	"github.com/sparegpu/spare/wallet"
)

// TestDeployAndSettleOnGeth runs the backend against a real node (geth
// --dev, a block a second): Deploy from a fresh key given gas by the
// developer account, a channel opened with two confirmations (progress
// reported block by block), a voucher settled; it logs the gas each
// transaction used.
func TestDeployAndSettleOnGeth(t *testing.T) {
	node := gethtest.Start(t)
	ctx := context.Background()
	payer, _ := wallet.GenerateKey()
	payee, _ := wallet.GenerateKey()
	node.Fund(t, payee.Address(), big.NewInt(1e18))
	var steps []Progress
	n, err := Deploy(ctx, node.Client, payer, DeployOptions{RPC: node.URL, Faucet: 50_000_000, Confirmations: 2,
		Progress: func(p Progress) { steps = append(steps, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != LocalNetwork || n.ChainID != gethtest.ChainID || n.Symbol != "tUSD" || n.Decimals != 6 || n.SettleThreshold != 1 ||
		n.MaxFeePercent != DefaultMaxFeePercent || n.BumpAfter != DefaultBumpAfter {
		t.Fatalf("deployed preset %+v", n)
	}
	if c, err := Dial(ctx, n); err != nil {
		t.Fatalf("dialling the deployed preset: %v", err)
	} else {
		c.Close()
	}
	seen := map[uint64]bool{}
	for _, p := range steps {
		if p.Call == "deploy escrow" {
			seen[p.Confirmations] = true
		}
	}
	if !seen[0] || !seen[1] || !seen[2] {
		t.Errorf("deploy escrow's progress went through %v, want sent, 1/2 and 2/2", seen)
	}
	open := func(k *wallet.Key) *Backend {
		l, err := wallet.OpenLedger(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		b, err := Open(ctx, node.Client, n, k, l, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pb, qb := open(payer), open(payee)
	if qb.Policy.Threshold != 1 || qb.Policy.MaxFeePercent != DefaultMaxFeePercent || qb.Policy.BumpAfter != DefaultBumpAfter {
		t.Fatalf("the backend's settle threshold %s, want the preset's 0.000001 (a development chain settles every job)", qb.Policy.Threshold)
	}
	sent := map[string]common.Hash{}
	record := func(p Progress) {
		if p.Confirmations == 0 {
			sent[p.Call] = p.Tx
		}
	}
	pb.Progress, qb.Progress = record, record
	ch, err := pb.Open(ctx, payee.Address(), payer.Address(), 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qb.CheckFunding(ctx, ch.ID, payer.Address(), 10_000_000); err != nil {
		t.Fatal(err)
	}
	v, err := wallet.SignVoucher(pb.Domain(), wallet.Voucher{ChannelID: ch.ID, Cumulative: 2_500_000}, payer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qb.ledger.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if amt, err := qb.SettleBest(ctx, ch.ID); err != nil || amt != 2_500_000 {
		t.Fatalf("settle: %s, %v", amt, err)
	}
	t.Logf("voucher to confirmed settlement on geth --dev (a block a second, 2 confirmations): %s", time.Since(start).Round(time.Millisecond))
	if got, err := qb.TokenBalance(ctx, payee.Address()); err != nil || got != 2_500_000 {
		t.Fatalf("payee holds %s, %v", got, err)
	}
	for _, call := range []string{"approve", "open", "settle"} {
		rc, err := node.Client.TransactionReceipt(ctx, sent[call])
		if err != nil {
			t.Fatalf("%s's receipt: %v", call, err)
		}
		t.Logf("gas on geth --dev: %s %d", call, rc.GasUsed)
	}
}
