package evm

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

// gasOf sums what the chain's receipts say the transactions cost.
func (e *chainEnv) gasOf(t *testing.T, hashes []common.Hash) (used uint64, wei *big.Int) {
	t.Helper()
	wei = new(big.Int)
	for _, h := range hashes {
		rc, err := e.client.TransactionReceipt(context.Background(), h)
		if err != nil {
			t.Fatalf("receipt of %s: %v", h.Hex(), err)
		}
		used += rc.GasUsed
		wei.Add(wei, new(big.Int).Mul(new(big.Int).SetUint64(rc.GasUsed), rc.EffectiveGasPrice))
	}
	return used, wei
}

// TestRequesterTransactionsRecordGas: every transaction a requester sends
// (approve and open, approve and topUp, requestClose, withdraw) is in its
// ledger with the gas its receipt says it cost, so the wallet's gas spent
// is what the chain charged; a transaction mined reverted (a withdraw
// before any close request, sent without the node's estimate) is
// recorded too, marked reverted, with its gas.
func TestRequesterTransactionsRecordGas(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	hashes := sent(e.payer)
	ch := e.open(t)
	if err := e.payer.TopUp(ctx, ch.ID, 1_000_000); err != nil {
		t.Fatal(err)
	}
	if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AdjustTime(wallet.CloseGrace + time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := e.payer.Withdraw(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if len(*hashes) != 6 {
		t.Fatalf("sent %d transactions; want approve, open, approve, topUp, requestClose, withdraw", len(*hashes))
	}
	// Sent without an estimate, as when the chain changed between the
	// estimate and the block: the escrow refuses a withdraw with no close
	// requested, on chain.
	other := e.open(t)
	e.payer.fees = func(o *bind.TransactOpts) { o.GasLimit = 200_000 }
	if err := e.payer.Withdraw(ctx, other.ID); !errors.Is(err, ErrReverted) {
		t.Fatalf("withdraw with no close requested: %v; want it mined reverted", err)
	}
	if len(*hashes) != 9 {
		t.Fatalf("sent %d transactions; want 9", len(*hashes))
	}
	used, wei := e.gasOf(t, *hashes)
	g, err := e.payerL.GasSpent(ctx)
	if err != nil || g.Txs != 9 || g.Used != used || g.Wei.Cmp(wei) != 0 || g.Unpriced != 0 {
		t.Fatalf("the requester's gas spent %+v (wei %s), %v; the chain says 9 transactions, %d gas, %s wei", g, g.Wei, err, used, wei)
	}
	txs, err := e.payerL.Transactions(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	reverted := 0
	for _, r := range txs {
		kinds[r.Kind]++
		if r.Reverted {
			reverted++
			if r.Kind != "withdraw" || r.Tx != (*hashes)[8] || r.GasUsed == 0 || r.Amount != 0 {
				t.Errorf("the reverted transaction listed as %+v", r)
			}
		}
	}
	want := map[string]int{"approve": 3, "open": 2, "topUp": 1, "requestClose": 1, "withdraw": 2}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s transactions listed; want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	if reverted != 1 || len(txs) != 9 {
		t.Errorf("%d transactions listed, %d reverted; want 9, 1", len(txs), reverted)
	}
}

// TestRevertedSettlementRecordsGas: a settlement mined reverted (a lower
// voucher signed before a higher one was settled, sent after it) costs
// its gas: the payee's ledger records it failed and reverted, with the
// receipt's gas, in the wallet's gas spent; the settlement itself counts
// once.
func TestRevertedSettlementRecordsGas(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	v1 := e.voucher(t, e.payer.Domain(), ch.ID, 1_000_000, e.payerKey)
	v2 := e.voucher(t, e.payer.Domain(), ch.ID, 2_000_000, e.payerKey)
	for _, v := range []*wallet.SignedVoucher{&v1, &v2} {
		if _, err := e.payeeL.RecordVoucher(ctx, v, common.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	hashes := sent(e.payee)
	if amt, err := e.payee.SettleBest(ctx, ch.ID); err != nil || amt != v2.Cumulative {
		t.Fatalf("settle: %s, %v", amt, err)
	}
	next, err := e.client.PendingNonceAt(ctx, e.payeeKey.Address())
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.payee.opts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.NoSend, o.Nonce, o.GasLimit = true, new(big.Int).SetUint64(next), 300_000
	stale, err := e.payee.escrow.Settle(o, v1.ChannelID, v1.Cumulative.Big(), v1.Sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.payee.recordPending(ctx, stale, &v1, v1.Cumulative, "settle"); err != nil {
		t.Fatal(err)
	}
	if err := e.payee.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if len(*hashes) != 2 || (*hashes)[1] != stale.Hash() {
		t.Fatalf("sent %d transactions; want the settlement, then the stale one", len(*hashes))
	}
	used, wei := e.gasOf(t, *hashes)
	g, err := e.payeeL.GasSpent(ctx)
	if err != nil || g.Txs != 2 || g.Used != used || g.Wei.Cmp(wei) != 0 {
		t.Fatalf("the payee's gas spent %+v (wei %s), %v; the chain says 2 transactions, %d gas, %s wei", g, g.Wei, err, used, wei)
	}
	group, err := e.payeeL.SettlementTxs(ctx, stale.Hash())
	if err != nil || len(group) != 1 || group[0].Status != "failed" {
		t.Fatalf("the reverted settlement in the ledger: %+v, %v", group, err)
	}
	if rec, onchain := e.settlements(t, ch.ID); rec != 1 || onchain != 1 {
		t.Fatalf("%d settlements recorded, %d on chain; want one each", rec, onchain)
	}
	bal, _ := e.payeeL.Balance(ctx, e.payeeKey.Address())
	if bal.Settled != v2.Cumulative || bal.Pending != 0 {
		t.Fatalf("balance %+v", bal)
	}
}
