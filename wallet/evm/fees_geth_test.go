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

// TestFeeBumpOnGeth runs fee bumping against a real node's pool (geth
// --dev, a block a second): a settlement sent at one wei per gas, which
// geth holds and does not mine, is replaced after a block by one its
// pool takes as a replacement (same nonce, tip and fee cap at least 10%
// higher) and mines; the ledger records the transaction that was mined,
// the other replaced, and the payee holds the voucher's amount once.
func TestFeeBumpOnGeth(t *testing.T) {
	node := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	payer, _ := wallet.GenerateKey()
	payee, _ := wallet.GenerateKey()
	node.Fund(t, payee.Address(), big.NewInt(1e18))
	n, err := Deploy(ctx, node.Client, payer, DeployOptions{RPC: node.URL, Faucet: 50_000_000, Confirmations: 1})
	if err != nil {
		t.Fatal(err)
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
	ch, err := pb.Open(ctx, payee.Address(), payer.Address(), 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qb.CheckFunding(ctx, ch.ID, payer.Address(), 10_000_000); err != nil {
		t.Fatal(err)
	}
	v, err := wallet.SignVoucher(pb.Domain(), wallet.Voucher{ChannelID: ch.ID, Cumulative: 1_750_000}, payer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qb.ledger.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	qb.poll, qb.Policy.BumpAfter = 100*time.Millisecond, 1
	lowFee(qb)
	hashes := sent(qb)
	if amt, err := qb.SettleBest(ctx, ch.ID); err != nil || amt != v.Cumulative {
		t.Fatalf("settle: %s, %v", amt, err)
	}
	if len(*hashes) < 2 {
		t.Fatalf("sent %d transactions; want the one-wei one and a replacement", len(*hashes))
	}
	recs, err := qb.ledger.OnChainSettlements(ctx)
	if err != nil || len(recs) != 1 {
		t.Fatalf("settlements recorded: %+v, %v", recs, err)
	}
	group, err := qb.ledger.SettlementTxs(ctx, recs[0].TxHash)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range group {
		_, rerr := node.Client.TransactionReceipt(ctx, p.Hash)
		switch {
		case p.Hash == recs[0].TxHash && (p.Status != "mined" || rerr != nil):
			t.Fatalf("the recorded settlement %s is %s on chain: %v", p.Hash.Hex(), p.Status, rerr)
		case p.Hash != recs[0].TxHash && (p.Status != "replaced" || rerr == nil):
			t.Fatalf("transaction %s is %s in the ledger; on chain: %v", p.Hash.Hex(), p.Status, rerr)
		}
	}
	if group[0].Hash == recs[0].TxHash {
		t.Fatalf("the one-wei transaction %s was mined; the test wants one geth would not mine", group[0].Hash.Hex())
	}
	if got, err := qb.TokenBalance(ctx, payee.Address()); err != nil || got != v.Cumulative {
		t.Fatalf("payee holds %s, %v; want %s", got, err, v.Cumulative)
	}
	if s, _ := qb.Settled(ctx, ch.ID); s != v.Cumulative {
		t.Fatalf("settled on chain %s", s)
	}
}
