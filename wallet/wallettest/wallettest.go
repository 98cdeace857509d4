// Package wallettest opens a test's wallet (Open, with a keystore that
// unlocks in milliseconds) and gives it known figures (Fund), recorded
// the way jobs and withdrawals record them. It is test support: only
// tests import it.
package wallettest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

// LightKeys is a keystore that unlocks in milliseconds (scrypt's light
// parameters): fine for tests, never for a real wallet.
var LightKeys = wallet.KeystoreOptions{ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}

// Passphrase unlocks Wallet's key.
const Passphrase = "test"

// Open opens (creating on first use) the wallet in dir, closed when the
// test ends.
func Open(t testing.TB, dir string) *wallet.Wallet {
	t.Helper()
	w, err := wallet.Open(wallet.Options{DataDir: dir, Passphrase: Passphrase, Keystore: LightKeys, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// Figures are the money a wallet is given.
type Figures struct {
	// Earned is the cumulative total a requester's vouchers promise: the
	// wallet's earnings. Settled of it is settled; the rest is pending.
	Earned  wallet.Amount
	Settled wallet.Amount
	// Deposit is what the requester's channel holds; zero means Earned.
	Deposit wallet.Amount
	// PaidOut is withdrawn to PayoutTo (needed when PaidOut is not zero);
	// zero means nothing was withdrawn.
	PaidOut  wallet.Amount
	PayoutTo string
}

// Fund gives the open wallet w the figures f the way a job does: a
// requester's channel to w, a voucher for Settled settled through the
// ledger backend, a later voucher for Earned recorded but not settled,
// then a withdrawal of PaidOut.
func Fund(t testing.TB, w *wallet.Wallet, f Figures) {
	t.Helper()
	ctx := context.Background()
	ls, err := w.LedgerSettlement()
	if err != nil {
		t.Fatal(err)
	}
	payer, err := wallet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	deposit := f.Deposit
	if deposit == 0 {
		deposit = f.Earned
	}
	ch := wallet.ChannelInfo{ID: wallet.ChannelID(ls.Domain, payer.Address(), ls.Me, common.Hash{1}), Domain: ls.Domain,
		Payer: payer.Address(), Payee: ls.Me, Signer: payer.Address(), Deposit: deposit}
	if err := w.Ledger.AddChannel(ctx, wallet.LedgerBackend, ch); err != nil {
		t.Fatal(err)
	}
	if f.Settled > 0 {
		v, err := wallet.SignVoucher(ls.Domain, wallet.Voucher{ChannelID: ch.ID, Cumulative: f.Settled}, payer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ls.Settle(ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	if f.Earned > f.Settled {
		v, err := wallet.SignVoucher(ls.Domain, wallet.Voucher{ChannelID: ch.ID, Cumulative: f.Earned}, payer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Ledger.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	if f.PaidOut > 0 {
		if err := w.Ledger.RecordPayout(ctx, ls.Me, f.PaidOut, f.PayoutTo, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

// PaidJob records one job run that earned the open wallet w earned: a
// requester's channel to w, an agreement both signed for a job of one
// GPU, and a voucher paying earned under it. It returns the agreement's
// ID, which the wallet's history names the run by.
func PaidJob(t testing.TB, w *wallet.Wallet, job common.Hash, earned wallet.Amount) common.Hash {
	t.Helper()
	ctx := context.Background()
	ls, err := w.LedgerSettlement()
	if err != nil {
		t.Fatal(err)
	}
	me, err := w.Key()
	if err != nil {
		t.Fatal(err)
	}
	payer, err := wallet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ch := wallet.ChannelInfo{ID: wallet.ChannelID(ls.Domain, payer.Address(), ls.Me, job), Domain: ls.Domain,
		Payer: payer.Address(), Payee: ls.Me, Signer: payer.Address(), Deposit: earned}
	if err := w.Ledger.AddChannel(ctx, wallet.LedgerBackend, ch); err != nil {
		t.Fatal(err)
	}
	sa := wallet.SignedAgreement{Domain: ls.Domain, Agreement: wallet.Agreement{JobHash: job, Requester: payer.Address(), Payee: ls.Me,
		ChannelID: ch.ID, GPUs: 1, PricePerGPUSecond: 100, IntervalSeconds: 10, MaxDurationSeconds: 3600, StartsAt: uint64(time.Now().Unix())}}
	if sa.RequesterSig, err = wallet.SignAgreement(sa.Domain, &sa.Agreement, payer); err != nil {
		t.Fatal(err)
	}
	if sa.PayeeSig, err = wallet.SignAgreement(sa.Domain, &sa.Agreement, me); err != nil {
		t.Fatal(err)
	}
	if err := w.Ledger.RecordAgreement(ctx, &sa); err != nil {
		t.Fatal(err)
	}
	id := sa.ID(sa.Domain)
	v, err := wallet.SignVoucher(ls.Domain, wallet.Voucher{ChannelID: ch.ID, Cumulative: earned}, payer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Ledger.RecordVoucher(ctx, &v, id); err != nil {
		t.Fatal(err)
	}
	return id
}
