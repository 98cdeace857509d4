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
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/contracts"
)

// backendsFor opens payer and payee backends on the escrow paying in
// token (fresh ledgers), the payer holding 100 deposits of it.
func (e *chainEnv) backendsFor(t *testing.T, token common.Address, mint func(*bind.TransactOpts) (*types.Transaction, error)) (payer, payee *Backend) {
	t.Helper()
	if _, err := mint(e.txOpts(t, e.payerKey.PrivateKey())); err != nil {
		t.Fatal(err)
	}
	e.commit()
	open := func(k *wallet.Key) *Backend {
		l, err := wallet.OpenLedger(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		b, err := New(context.Background(), e.client, e.escrow, token, k, l, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		b.Mined = e.commit
		return b
	}
	return open(e.payerKey), open(e.payeeKey)
}

// TestEscrowNoReturnToken: a token whose transfer and transferFrom
// return nothing (USDT on mainnet) deposits, settles and refunds; it used
// to revert, the escrow reading a bool that was not there.
func TestEscrowNoReturnToken(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	addr, _, tok, err := contracts.DeployNoReturnToken(e.txOpts(t, e.payerKey.PrivateKey()), e.client)
	if err != nil {
		t.Fatal(err)
	}
	e.commit()
	payer, payee := e.backendsFor(t, addr, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return tok.Mint(o, e.payerKey.Address(), big.NewInt(int64(100*deposit)))
	})
	ch, err := payer.Open(ctx, e.payeeKey.Address(), e.payerKey.Address(), deposit)
	if err != nil {
		t.Fatalf("open with a token that returns nothing: %v", err)
	}
	if ch.Deposit != deposit {
		t.Fatalf("deposit %s, want %s", ch.Deposit, deposit)
	}
	if _, err := payee.CheckFunding(ctx, ch.ID, e.payerKey.Address(), deposit); err != nil {
		t.Fatal(err)
	}
	v := e.voucher(t, payer.Domain(), ch.ID, 3_000_000, e.payerKey)
	if amt, err := payee.Settle(ctx, &v); err != nil || amt != 3_000_000 {
		t.Fatalf("settle: %s, %v", amt, err)
	}
	if got, _ := tok.BalanceOf(nil, e.payeeKey.Address()); got.Int64() != 3_000_000 {
		t.Fatalf("payee holds %s, want 3000000", got)
	}
	if err := payer.TopUp(ctx, ch.ID, 1_000_000); err != nil {
		t.Fatalf("top-up: %v", err)
	}
	if got, _ := payer.Channel(ctx, ch.ID); got.Deposit != deposit+1_000_000 {
		t.Fatalf("deposit after top-up %s", got.Deposit)
	}
}

// TestEscrowFeeOnTransferToken: a token that burns 1% of each transfer
// credits the channel with what arrived (99%), on open and on top-up, so
// the escrow's balance always covers its channels; the ledger records
// the same; a voucher above what arrived is refused.
func TestEscrowFeeOnTransferToken(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	addr, _, tok, err := contracts.DeployFeeToken(e.txOpts(t, e.payerKey.PrivateKey()), e.client)
	if err != nil {
		t.Fatal(err)
	}
	e.commit()
	payer, payee := e.backendsFor(t, addr, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return tok.Mint(o, e.payerKey.Address(), big.NewInt(int64(100*deposit)))
	})
	ch, err := payer.Open(ctx, e.payeeKey.Address(), e.payerKey.Address(), deposit)
	if err != nil {
		t.Fatal(err)
	}
	arrived := deposit - deposit/100
	if ch.Deposit != arrived {
		t.Fatalf("channel credited %s, want what arrived %s", ch.Deposit, arrived)
	}
	if err := payer.TopUp(ctx, ch.ID, 1_000_000); err != nil {
		t.Fatal(err)
	}
	arrived += 990_000
	onchain, _ := payer.Channel(ctx, ch.ID)
	held, _ := tok.BalanceOf(nil, e.escrow)
	if onchain.Deposit != arrived || held.Int64() != int64(arrived) {
		t.Fatalf("deposit %s, escrow holds %s, want both %s", onchain.Deposit, held, arrived)
	}
	rec, err := payer.ledger.Channel(ctx, ch.ID)
	if err != nil || rec.Deposit != arrived {
		t.Fatalf("payer's ledger records deposit %s (%v), want %s", rec.Deposit, err, arrived)
	}
	if _, err := payee.CheckFunding(ctx, ch.ID, e.payerKey.Address(), arrived+1); !errors.Is(err, ErrUnfunded) {
		t.Fatalf("a job costing more than arrived: %v", err)
	}
	if _, err := payee.CheckFunding(ctx, ch.ID, e.payerKey.Address(), arrived); err != nil {
		t.Fatalf("a job costing what arrived: %v", err)
	}
	over := e.voucher(t, payer.Domain(), ch.ID, deposit+1_000_000, e.payerKey) // what was sent, not what arrived
	if _, err := payee.Settle(ctx, &over); err == nil {
		t.Fatal("a voucher above what arrived settled")
	}
	all := e.voucher(t, payer.Domain(), ch.ID, arrived, e.payerKey)
	if amt, err := payee.Close(ctx, &all); err != nil || amt != arrived {
		t.Fatalf("close for everything that arrived: %s, %v", amt, err)
	}
	if held, _ := tok.BalanceOf(nil, e.escrow); held.Sign() != 0 {
		t.Fatalf("the escrow keeps %s after its only channel closed", held)
	}
}

// TestEscrowFalseToken: a token that returns false moves nothing and the
// escrow refuses it, with a sentence.
func TestEscrowFalseToken(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	addr, _, _, err := contracts.DeployFalseToken(e.txOpts(t, e.payerKey.PrivateKey()), e.client)
	if err != nil {
		t.Fatal(err)
	}
	e.commit()
	payer, _ := e.backendsFor(t, addr, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return e.tok.Mint(o, e.payerKey.Address(), big.NewInt(1)) // any transaction: FalseToken has no mint
	})
	_, err = payer.Open(ctx, e.payeeKey.Address(), e.payerKey.Address(), deposit)
	var ce *ContractError
	if !errors.As(err, &ce) || ce.Name != "TransferFailed" || !strings.Contains(err.Error(), "token refused the transfer") {
		t.Fatalf("open with a token returning false: %v", err)
	}
	// A token address with no code at all.
	nocode, _ := e.backendsFor(t, common.Address{0xde, 0xad}, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return e.tok.Mint(o, e.payerKey.Address(), big.NewInt(1))
	})
	if _, err := nocode.Open(ctx, e.payeeKey.Address(), e.payerKey.Address(), deposit); err == nil {
		t.Fatal("open with a token that has no code succeeded")
	}
}

// TestLockOutlastsCloseRequest: the payer opens for a job of up to 48
// hours and asks to close an hour in; 25 hours later, when the old rule
// (24 h after the request) would have let the payer withdraw, the
// contract still refuses, and the payee settles then; the payer
// withdraws the rest only 24 h after the lock's end.
func TestLockOutlastsCloseRequest(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	const job = 48 * time.Hour
	head, _ := e.client.HeaderByNumber(ctx, nil)
	start := time.Unix(int64(head.Time), 0) // OpenFor locks from the latest block's time
	ch, err := e.payer.OpenFor(ctx, e.payeeKey.Address(), e.payerKey.Address(), deposit, job)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.payeeL.AddChannel(ctx, BackendName, ch); err != nil {
		t.Fatal(err)
	}
	if err := e.payee.CheckLock(ctx, ch.ID, start.Add(job)); err != nil {
		t.Fatalf("a channel locked for the job: %v", err)
	}
	if err := e.payee.CheckLock(ctx, ch.ID, start.Add(job+time.Hour)); !errors.Is(err, ErrUnfunded) || !strings.Contains(err.Error(), "maximum duration") {
		t.Fatalf("a lock shorter than the job: %v", err)
	}
	if err := e.sim.AdjustTime(time.Hour); err != nil {
		t.Fatal(err)
	}
	v := e.voucher(t, e.payer.Domain(), ch.ID, 2_000_000, e.payerKey)
	if _, err := e.payeeL.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	if err := e.payer.RequestClose(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	onchain, _ := e.payer.Channel(ctx, ch.ID)
	if want := time.Unix(int64(onchain.UnlockAt), 0).Add(wallet.CloseGrace); !onchain.WithdrawableAt().Equal(want) {
		t.Fatalf("withdrawable at %s, want the lock's end + grace %s", onchain.WithdrawableAt(), want)
	}
	if err := e.sim.AdjustTime(25 * time.Hour); err != nil {
		t.Fatal(err)
	}
	err = e.payer.Withdraw(ctx, ch.ID)
	if !errors.Is(err, wallet.ErrGracePeriod) {
		t.Fatalf("withdraw 25 h after a close request, inside the lock: %v", err)
	}
	if amt, err := e.payee.SettleBest(ctx, ch.ID); err != nil || amt != 2_000_000 {
		t.Fatalf("the payee settling after the old deadline: %s, %v", amt, err)
	}
	if err := e.sim.AdjustTime(job); err != nil {
		t.Fatal(err)
	}
	before := e.balanceOf(t, e.payerKey.Address())
	if err := e.payer.Withdraw(ctx, ch.ID); err != nil {
		t.Fatalf("withdraw after the lock and the grace period: %v", err)
	}
	if got := e.balanceOf(t, e.payerKey.Address()) - before; got != int64(deposit-2_000_000) {
		t.Fatalf("refund %d, want %d", got, deposit-2_000_000)
	}
	// The contract bounds a lock, and so does OpenFor.
	if _, err := e.payer.OpenFor(ctx, e.payeeKey.Address(), e.payerKey.Address(), deposit, MaxLock+time.Hour); err == nil {
		t.Fatal("OpenFor took a lock above MaxLock")
	}
	far := uint64(time.Unix(int64(head.Time), 0).Add(job + 26*time.Hour + MaxLock + time.Hour).Unix())
	if got := e.raw(t, e.payerKey, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return e.esc.Open(o, e.payeeKey.Address(), e.payerKey.Address(), e.token, big.NewInt(1), common.Hash{1}, far)
	}); got != "LockTooLong" {
		t.Fatalf("open locked 31 days + 1 h ahead: %q", got)
	}
}
