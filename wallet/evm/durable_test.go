package evm

import (
	"context"
	"errors"
	"log/slog"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sparegpu/spare/wallet"
)

var errKilled = errors.New("killed")

// restart is the payee's backend as a restarted process has it: the same
// key and ledger, nothing in memory.
func (e *chainEnv) restart(t *testing.T) *Backend {
	t.Helper()
	b, err := New(context.Background(), e.client, e.escrow, e.token, e.payeeKey, e.payeeL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b.Mined = e.commit
	return b
}

// settlements counts the payee's settlement records and the chain's
// Settled events for channel id.
func (e *chainEnv) settlements(t *testing.T, id common.Hash) (recorded, onchain int) {
	t.Helper()
	recs, err := e.payeeL.OnChainSettlements(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	it, err := e.esc.FilterSettled(nil, [][32]byte{id})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for it.Next() {
		onchain++
	}
	return len(recs), onchain
}

// TestSettleKilledAtEachPoint kills the settlement at each point a kill
// -9 can land (recorded and not sent; sent and not mined; mined and not
// recorded) and restarts: each ends in exactly one settlement of the
// voucher's amount, on chain and in the ledger, and a second restart
// sends nothing.
func TestSettleKilledAtEachPoint(t *testing.T) {
	for _, c := range []struct {
		name  string
		point string
		mine  bool // the node mines what was sent before the restart
	}{
		{"recorded, not sent", "recorded", false},
		{"sent, not mined", "sent", false},
		{"mined, not recorded", "sent", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newChain(t)
			ctx := context.Background()
			ch := e.open(t)
			v := e.voucher(t, e.payer.Domain(), ch.ID, 3_000_000, e.payerKey)
			if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
				t.Fatal(err)
			}
			if !c.mine {
				e.payee.Mined = nil // the transaction stays in the pool
			}
			e.payee.crash = func(p string) error {
				if p == c.point {
					return errKilled
				}
				return nil
			}
			if _, err := e.payee.SettleBest(ctx, ch.ID); !errors.Is(err, errKilled) {
				t.Fatalf("the killed settlement returned %v", err)
			}
			pending, err := e.payeeL.PendingTxs(ctx, e.payee.Domain().ChainID)
			if err != nil || len(pending) != 1 {
				t.Fatalf("pending transactions after the kill: %d, %v", len(pending), err)
			}
			for i := range 2 {
				b := e.restart(t)
				if _, err := b.SettleAll(ctx); err != nil {
					t.Fatalf("restart %d: %v", i+1, err)
				}
				if s, _ := b.Settled(ctx, ch.ID); s != v.Cumulative {
					t.Fatalf("restart %d: settled on chain %s, want %s", i+1, s, v.Cumulative)
				}
			}
			if rec, onchain := e.settlements(t, ch.ID); rec != 1 || onchain != 1 {
				t.Fatalf("%d settlements recorded, %d on chain; want one each", rec, onchain)
			}
			bal, _ := e.payeeL.Balance(ctx, e.payeeKey.Address())
			if bal.Settled != v.Cumulative || bal.Pending != 0 || e.balanceOf(t, e.payeeKey.Address()) != int64(v.Cumulative) {
				t.Fatalf("after the restarts: %+v, tokens %d", bal, e.balanceOf(t, e.payeeKey.Address()))
			}
			if p, _ := e.payeeL.PendingTxs(ctx, e.payee.Domain().ChainID); len(p) != 0 {
				t.Fatalf("%d transactions still pending", len(p))
			}
		})
	}
}

// poolSize is how many transactions the simulated node's pool holds.
func (e *chainEnv) poolSize(t *testing.T) int {
	rpc := reflect.ValueOf(e.client).FieldByName("Client").Interface().(*ethclient.Client).Client()
	var st struct{ Pending, Queued hexutil.Uint }
	if err := rpc.Call(&st, "txpool_status"); err != nil {
		t.Fatal(err)
	}
	return int(st.Pending + st.Queued)
}

// TestReorgDroppedSettlementIsSentAgain: a reorg takes the settlement's
// block off the chain; the watcher's next poll sees the receipt gone,
// puts the settlement back to pending, and sends the same signed
// transaction again, which is mined once: one settlement, on chain and
// in the ledger.
func TestReorgDroppedSettlementIsSentAgain(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	v := e.voucher(t, e.payer.Domain(), ch.ID, 2_500_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	parent, err := e.client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if amt, err := e.payee.SettleBest(ctx, ch.ID); err != nil || amt != v.Cumulative {
		t.Fatalf("settle: %s, %v", amt, err)
	}
	recs, _ := e.payeeL.OnChainSettlements(ctx)
	if err := e.sim.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	// The head is now the settlement's parent: its block is no longer
	// canonical.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := e.client.TransactionReceipt(ctx, recs[0].TxHash); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the settlement stayed on the chain after the fork")
		}
	}
	if s, _ := e.payee.Settled(ctx, ch.ID); s != 0 {
		t.Fatalf("the fork shows %s settled", s)
	}
	// The node's pool takes the dropped transaction back on its own
	// goroutine; wait for it, so the poll's resend meets a pool that has
	// caught up with the reorg.
	for deadline := time.Now().Add(10 * time.Second); e.poolSize(t) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the pool did not take the dropped settlement back")
		}
	}
	w := &Watcher{Backend: e.payee}
	if _, err := w.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.payee.Settled(ctx, ch.ID); s != v.Cumulative {
		t.Fatalf("settled on chain after the poll %s, want %s", s, v.Cumulative)
	}
	if rec, onchain := e.settlements(t, ch.ID); rec != 1 || onchain != 1 {
		t.Fatalf("%d settlements recorded, %d on chain; want one each", rec, onchain)
	}
	if after, _ := e.payeeL.OnChainSettlements(ctx); after[0].TxHash != recs[0].TxHash || after[0].BlockHash == recs[0].BlockHash {
		t.Fatalf("the settlement after the reorg: %+v, before %+v; want the same transaction in a new block", after[0], recs[0])
	}
	bal, _ := e.payeeL.Balance(ctx, e.payeeKey.Address())
	if bal.Settled != v.Cumulative || bal.Pending != 0 {
		t.Fatalf("balance after the reorg and resend: %+v", bal)
	}
}

// TestClosedChannelRemainderIsLost: the payer withdraws after the grace
// period while the payee holds a voucher it never settled (received
// after the withdraw, or while it was offline): the payee's watcher
// records the channel closed and the wallet shows the remainder as lost,
// not pending forever.
func TestClosedChannelRemainderIsLost(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	w := &Watcher{Backend: e.payee}
	v1 := e.voucher(t, e.payer.Domain(), ch.ID, 4_000_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v1, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Poll(ctx); err != nil || len(got) != 1 {
		t.Fatalf("settling on the close request: %v, %v", got, err)
	}
	if err := e.sim.AdjustTime(wallet.CloseGrace + time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := e.payer.Withdraw(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	v2 := e.voucher(t, e.payer.Domain(), ch.ID, 5_500_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v2, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := e.payeeL.Balance(ctx, e.payeeKey.Address()); b.Pending != 1_500_000 {
		t.Fatalf("before the watcher saw the close: %+v", b)
	}
	if got, err := w.Poll(ctx); err != nil || len(got) != 0 {
		t.Fatalf("poll on a closed channel: %v, %v", got, err)
	}
	b, _ := e.payeeL.Balance(ctx, e.payeeKey.Address())
	if b.Earned != 5_500_000 || b.Settled != 4_000_000 || b.Lost != 1_500_000 || b.Pending != 0 {
		t.Fatalf("after the close: %+v; want 1.500000 lost, nothing pending", b)
	}
	if rec, _ := e.payeeL.Channel(ctx, ch.ID); rec.State != "closed" {
		t.Fatalf("the payee's ledger holds the channel %s", rec.State)
	}
	if rec, _ := e.payerL.Channel(ctx, ch.ID); rec.State != "closed" || rec.Refunded != deposit-4_000_000 {
		t.Fatalf("the payer's ledger: %s, refunded %s", rec.State, rec.Refunded)
	}
	if got, err := w.Poll(ctx); err != nil || len(got) != 0 {
		t.Fatalf("a later poll: %v, %v", got, err)
	}
}

// TestPendingBehindANonceGapIsSettledAnew: the ledger holds a pending
// settlement whose nonce lies beyond anything the account has used or the
// node holds (signed for another chain with this ID: a development chain
// started afresh under a kept data dir). Resending it would leave it in
// the node's pool for ever and every later settlement waiting behind it;
// instead it is recorded failed and its voucher settled anew, once.
func TestPendingBehindANonceGapIsSettledAnew(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	v := e.voucher(t, e.payer.Domain(), ch.ID, 1_500_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	next, err := e.client.PendingNonceAt(ctx, e.payeeKey.Address())
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.payee.opts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.NoSend, o.Nonce, o.GasLimit = true, new(big.Int).SetUint64(next+2), 200_000
	stale, err := e.payee.escrow.Settle(o, v.ChannelID, v.Cumulative.Big(), v.Sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.payee.recordPending(ctx, stale, &v, v.Cumulative, "settle"); err != nil {
		t.Fatal(err)
	}
	b := e.restart(t)
	if amt, err := b.SettleAll(ctx); err != nil || amt != v.Cumulative {
		t.Fatalf("settling after the stale transaction: %s, %v; want %s", amt, err, v.Cumulative)
	}
	if s, _ := b.Settled(ctx, ch.ID); s != v.Cumulative {
		t.Fatalf("settled on chain %s, want %s", s, v.Cumulative)
	}
	if rec, onchain := e.settlements(t, ch.ID); rec != 1 || onchain != 1 {
		t.Fatalf("%d settlements recorded, %d on chain; want one each", rec, onchain)
	}
	if p, _ := e.payeeL.PendingTxs(ctx, b.Domain().ChainID); len(p) != 0 {
		t.Fatalf("%d transactions still pending", len(p))
	}
	if n := e.poolSize(t); n != 0 {
		t.Fatalf("the node's pool holds %d transactions; the stale one was sent", n)
	}
}
