package evm

import (
	"context"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

// produce mines a block every few milliseconds until the test ends, as a
// live chain does (the simulated chain mines only when told): a
// settlement waiting to be replaced sees blocks go by.
func (e *chainEnv) produce(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				e.sim.Commit()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// lowFee makes b's settlements start at one wei per gas, tip and fee cap:
// below any base fee the chain has, so the node holds the transaction and
// never mines it.
func lowFee(b *Backend) {
	b.fees = func(o *bind.TransactOpts) {
		// The node estimates gas only at a fee it would take: the dev
		// chain's settle uses up to 400 000 (TestGasUsed).
		o.GasTipCap, o.GasFeeCap, o.GasLimit = big.NewInt(1), big.NewInt(1), 400_000
	}
}

// bumping is the payee's backend as a restarted process has it, on a
// chain that produces blocks by itself: it polls often and replaces a
// settlement after two blocks.
func (e *chainEnv) bumping(t *testing.T) *Backend {
	t.Helper()
	b, err := New(context.Background(), e.client, e.escrow, e.token, e.payeeKey, e.payeeL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b.poll, b.Policy.BumpAfter = 5*time.Millisecond, 2
	return b
}

// sent records the hash of every transaction b sends.
func sent(b *Backend) *[]common.Hash {
	var out []common.Hash
	b.Progress = func(p Progress) {
		if p.Confirmations == 0 {
			out = append(out, p.Tx)
		}
	}
	return &out
}

// checkOneSettlement: one settlement of v on the chain and in the ledger,
// through the last transaction of its group, the others replaced; nothing
// pending; the payee's tokens and wallet agree.
func (e *chainEnv) checkOneSettlement(t *testing.T, v wallet.SignedVoucher) []wallet.PendingTx {
	t.Helper()
	ctx := context.Background()
	if rec, onchain := e.settlements(t, v.ChannelID); rec != 1 || onchain != 1 {
		t.Fatalf("%d settlements recorded, %d on chain; want one each", rec, onchain)
	}
	recs, _ := e.payeeL.OnChainSettlements(ctx)
	if p, _ := e.payeeL.PendingTxs(ctx, e.payee.Domain().ChainID); len(p) != 0 {
		t.Fatalf("%d transactions still pending", len(p))
	}
	rc, err := e.client.TransactionReceipt(ctx, recs[0].TxHash)
	if err != nil || rc.BlockHash != recs[0].BlockHash {
		t.Fatalf("the recorded settlement %s is not the one mined: %v", recs[0].TxHash.Hex(), err)
	}
	group, err := e.payeeL.SettlementTxs(ctx, recs[0].TxHash)
	if err != nil {
		t.Fatal(err)
	}
	mined := 0
	for _, p := range group {
		switch {
		case p.Status == "mined" && p.Hash == recs[0].TxHash:
			mined++
		case p.Status == "replaced":
			if _, err := e.client.TransactionReceipt(ctx, p.Hash); err == nil {
				t.Fatalf("replaced transaction %s is mined too", p.Hash.Hex())
			}
		default:
			t.Fatalf("transaction %s of the settlement: %s", p.Hash.Hex(), p.Status)
		}
	}
	if mined != 1 {
		t.Fatalf("settlement transactions %+v: want exactly the recorded one mined", group)
	}
	bal, _ := e.payeeL.Balance(ctx, e.payeeKey.Address())
	if bal.Settled != v.Cumulative || bal.Pending != 0 || e.balanceOf(t, e.payeeKey.Address()) != int64(v.Cumulative) {
		t.Fatalf("after the settlement: %+v, tokens %d", bal, e.balanceOf(t, e.payeeKey.Address()))
	}
	return group
}

// TestLowFeeSettlementIsReplacedAndMinedOnce: a settlement sent at a fee
// the node will not mine (below the base fee) is, after two blocks,
// signed again with the same nonce and a fee at least 10% higher in tip
// and fee cap, recorded, sent, and mined: one settlement, recorded with
// the transaction that was mined, the first recorded replaced.
func TestLowFeeSettlementIsReplacedAndMinedOnce(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	v := e.voucher(t, e.payer.Domain(), ch.ID, 3_000_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	b := e.bumping(t)
	lowFee(b)
	hashes := sent(b)
	e.produce(t)
	if amt, err := b.SettleBest(ctx, ch.ID); err != nil || amt != v.Cumulative {
		t.Fatalf("settle: %s, %v", amt, err)
	}
	if len(*hashes) < 2 {
		t.Fatalf("sent %d transactions; want the low-fee one and a replacement", len(*hashes))
	}
	group := e.checkOneSettlement(t, v)
	// Each transaction sent is in the ledger; the ledger may hold one more,
	// recorded and refused by the node as the one before it was mined.
	inLedger := map[common.Hash]bool{}
	for _, p := range group {
		inLedger[p.Hash] = true
	}
	for _, h := range *hashes {
		if !inLedger[h] {
			t.Fatalf("transaction %s was sent and is not in the ledger", h.Hex())
		}
	}
	if group[0].Hash != (*hashes)[0] || len(group) > len(*hashes)+1 {
		t.Fatalf("the ledger holds %d transactions of the settlement, %d were sent", len(group), len(*hashes))
	}
	for i := 1; i < len(group); i++ {
		was, _ := rawTx(group[i-1])
		now, _ := rawTx(group[i])
		if now.Nonce() != was.Nonce() || now.GasFeeCap().Cmp(new(big.Int).Div(new(big.Int).Mul(was.GasFeeCap(), big.NewInt(110)), big.NewInt(100))) < 0 ||
			now.GasTipCap().Cmp(new(big.Int).Div(new(big.Int).Mul(was.GasTipCap(), big.NewInt(110)), big.NewInt(100))) < 0 ||
			string(now.Data()) != string(was.Data()) || *now.To() != *was.To() {
			t.Fatalf("replacement %d: nonce %d fee cap %s tip %s; was nonce %d fee cap %s tip %s", i, now.Nonce(), now.GasFeeCap(), now.GasTipCap(),
				was.Nonce(), was.GasFeeCap(), was.GasTipCap())
		}
		if group[i].SentBlock < group[i-1].SentBlock+2 {
			t.Fatalf("replacement %d sent at block %d, %d blocks after the one it replaced; want 2", i, group[i].SentBlock, group[i].SentBlock-group[i-1].SentBlock)
		}
	}
}

// TestFeeBumpKilledAtEachPoint kills a low-fee settlement at each point a
// kill -9 can land, its replacement's included, and restarts on a chain
// that goes on producing blocks: each ends in exactly one settlement,
// recorded with the transaction that was mined, and a second restart
// sends nothing.
func TestFeeBumpKilledAtEachPoint(t *testing.T) {
	for _, point := range []string{"recorded", "sent", "bump recorded", "bump sent"} {
		t.Run(point, func(t *testing.T) {
			e := newChain(t)
			ctx := context.Background()
			ch := e.open(t)
			v := e.voucher(t, e.payer.Domain(), ch.ID, 2_000_000, e.payerKey)
			if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
				t.Fatal(err)
			}
			b := e.bumping(t)
			lowFee(b)
			b.crash = func(p string) error {
				if p == point {
					return errKilled
				}
				return nil
			}
			e.produce(t)
			if _, err := b.SettleBest(ctx, ch.ID); !errors.Is(err, errKilled) {
				t.Fatalf("the killed settlement returned %v", err)
			}
			for i := range 2 {
				r := e.bumping(t)
				hashes := sent(r)
				if _, err := r.SettleAll(ctx); err != nil {
					t.Fatalf("restart %d: %v", i+1, err)
				}
				if i == 1 && len(*hashes) != 0 {
					t.Fatalf("the second restart sent %d transactions", len(*hashes))
				}
			}
			if g := e.checkOneSettlement(t, v); len(g) < 2 {
				t.Fatalf("the settlement went out in %d transaction; want the low-fee one replaced", len(g))
			}
		})
	}
}

// TestSettlementFeeCap: with the network's rate, a settlement's fee is
// capped at MaxFeePercent of what it settles. A fee the cap holds below
// the base fee is sent at the cap, the wallet's pending row says why it
// waits, a replacement above the cap is not sent, and once the chain's
// fees fall below the cap the settlement is mined, once, never having
// offered more than the cap.
func TestSettlementFeeCap(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	ch := e.open(t)
	v := e.voucher(t, e.payer.Domain(), ch.ID, 3_000_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	head, err := e.client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A rate at which 10% of the voucher buys SettleGas at a quarter of
	// the base fee.
	rate := new(big.Int).Mul(big.NewInt(int64(v.Cumulative)/10*4), big.NewInt(1e18))
	rate.Quo(rate, new(big.Int).Mul(big.NewInt(SettleGas), head.BaseFee))
	withRate := func(b *Backend) *Backend { b.Network.TokenPerNative = rate.Uint64(); return b }
	b := withRate(e.bumping(t))
	b.crash = func(p string) error {
		if p == "sent" {
			return errKilled
		}
		return nil
	}
	if _, err := b.SettleBest(ctx, ch.ID); !errors.Is(err, errKilled) {
		t.Fatalf("settle: %v", err)
	}
	pend, err := e.payeeL.Pending(ctx, e.payeeKey.Address())
	if err != nil || len(pend) != 1 || !strings.Contains(pend[0].Waiting, "fee cap") || !strings.Contains(pend[0].Waiting, "10% of the 3.000000") {
		t.Fatalf("the wallet's pending settlement: %+v, %v; want it to say its fee is capped at 10%% of 3.000000", pend, err)
	}
	txs, _ := e.payeeL.PendingTxs(ctx, b.Domain().ChainID)
	first, _ := rawTx(txs[0])
	limit, _ := b.feeLimit(v.Cumulative, first.Gas(), first.GasFeeCap())
	if first.GasFeeCap().Cmp(limit) != 0 || first.GasFeeCap().Cmp(head.BaseFee) >= 0 {
		t.Fatalf("first transaction's fee cap %s; want the cap %s, below the base fee %s", first.GasFeeCap(), limit, head.BaseFee)
	}
	if next, why, err := b.bump(ctx, txs, txs[0].SentBlock+5); err != nil || next != nil || !strings.Contains(why, "waits for the chain's fees to fall") {
		t.Fatalf("a bump at the cap: %v, %q, %v; want none sent, and why", next, why, err)
	}
	if p, _ := e.payeeL.PendingTxs(ctx, b.Domain().ChainID); len(p) != 1 {
		t.Fatalf("%d transactions pending after a bump over the cap; want the first only", len(p))
	}
	// The chain's blocks go by empty: its base fee falls below the cap.
	e.produce(t)
	r := withRate(e.bumping(t))
	if _, err := r.SettleAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.checkOneSettlement(t, v) {
		tx, _ := rawTx(p)
		cost := new(big.Int).Mul(tx.GasFeeCap(), new(big.Int).SetUint64(tx.Gas()))
		if tok, _ := wallet.WeiInToken(cost, rate.Uint64()); tok > v.Cumulative/10 {
			t.Fatalf("transaction %s could spend %s on gas, above 10%% of %s", p.Hash.Hex(), tok, v.Cumulative)
		}
	}
	if pend, _ := e.payeeL.Pending(ctx, e.payeeKey.Address()); len(pend) != 0 {
		t.Fatalf("pending after the settlement: %+v", pend)
	}
}
