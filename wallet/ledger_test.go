package wallet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func openLedger(t testing.TB, dir string) *Ledger {
	t.Helper()
	l, err := OpenLedger(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLedgerOpenMigratesDurably(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	ctx := context.Background()
	v, err := l.SchemaVersion(ctx)
	if err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	var mode string
	var sync int
	l.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
	l.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync)
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal_mode %q synchronous %d; want wal and 2 (FULL)", mode, sync)
	}
	fi, _ := os.Stat(filepath.Join(dir, LedgerFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("ledger mode %v", fi.Mode().Perm())
	}
	l.Close()
	l2 := openLedger(t, dir) // reopening applies nothing twice
	if v, _ := l2.SchemaVersion(ctx); v != len(migrations) {
		t.Fatalf("after reopen: version %d", v)
	}
	if _, err := l2.db.ExecContext(ctx, `UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if _, err := OpenLedger(dir, nil); err == nil {
		t.Fatal("a ledger from a newer spare opened without complaint")
	}
}

// pair is a provider's and a requester's ledger sharing one channel and agreement.
type pair struct {
	*fixture
	prov, req *Ledger
}

func newPair(t *testing.T) *pair {
	f := newFixture(t)
	p := &pair{fixture: f, prov: openLedger(t, t.TempDir()), req: openLedger(t, t.TempDir())}
	ctx := context.Background()
	for _, l := range []*Ledger{p.prov, p.req} {
		if err := l.AddChannel(ctx, LedgerBackend, f.ch); err != nil {
			t.Fatal(err)
		}
		if err := l.RecordAgreement(ctx, &f.ag); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// step runs one interval: the provider records and sends a receipt, the
// requester checks and records it and pays with a voucher, which the
// provider records. It returns the voucher.
func (p *pair) step(t testing.TB, final bool) SignedVoucher {
	t.Helper()
	ctx := context.Background()
	id := p.ag.ID(p.domain)
	st, err := p.prov.ReceiptState(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	r := p.receipt(t, st, final)
	if _, err := p.prov.RecordReceipt(ctx, &r, p.now()); err != nil {
		t.Fatalf("provider records its receipt: %v", err)
	}
	next, err := p.req.RecordReceipt(ctx, &r, p.now())
	if err != nil {
		t.Fatalf("requester records the receipt: %v", err)
	}
	v := p.voucher(t, next.Cumulative)
	if _, err := p.req.RecordVoucher(ctx, &v, id); err != nil {
		t.Fatalf("requester records its voucher: %v", err)
	}
	if _, err := p.prov.RecordVoucher(ctx, &v, id); err != nil {
		t.Fatalf("provider records the voucher: %v", err)
	}
	return v
}

func TestLedgerMeteredJob(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	id := p.ag.ID(p.domain)
	var last SignedVoucher
	for i := 0; i < 3; i++ {
		last = p.step(t, false)
	}
	t.Run("replayed voucher dropped", func(t *testing.T) {
		if _, err := p.prov.RecordVoucher(ctx, &last, id); !errors.Is(err, ErrReplay) {
			t.Fatalf("got %v, want ErrReplay", err)
		}
	})
	t.Run("replayed receipt dropped", func(t *testing.T) {
		st, _ := p.prov.ReceiptState(ctx, id)
		r, err := p.prov.Receipt(ctx, id, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.req.RecordReceipt(ctx, &r, p.now()); !errors.Is(err, ErrReplay) {
			t.Fatalf("got %v, want ErrReplay", err)
		}
		if st2, _ := p.prov.ReceiptState(ctx, id); st2 != st {
			t.Fatal("state changed")
		}
	})
	t.Run("voucher for unknown channel", func(t *testing.T) {
		v := p.voucher(t, 1)
		v.ChannelID = common.Hash{1}
		if _, err := p.prov.RecordVoucher(ctx, &v, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
	// Final receipt, then a conflicting one: evidence is kept.
	p.step(t, true)
	st, _ := p.req.ReceiptState(ctx, id)
	if !st.Final {
		t.Fatal("final receipt not recorded as final")
	}
	var before ReceiptState
	{
		// Rebuild the state just before the final receipt.
		var h string
		p.req.db.QueryRowContext(ctx, `SELECT hash FROM receipts WHERE seq = 3`).Scan(&h)
		before = ReceiptState{LastSeq: 3, LastHash: common.HexToHash(h), LastEnd: st.LastEnd - p.ag.IntervalSeconds}
		before.GPUms, before.CPUms = 3*p.ag.IntervalSeconds*1000, 3*p.ag.IntervalSeconds*p.ag.CPUMillis
		before.Cumulative, _ = p.ag.Cost(before.GPUms, before.CPUms)
	}
	other := final2(p.fixture, t, before, true)
	if _, err := p.req.RecordReceipt(ctx, &other, p.now()); !errors.Is(err, ErrConflictingFinal) {
		t.Fatalf("conflicting final: got %v", err)
	}
	ev, err := p.req.Evidence(ctx, id)
	if err != nil || len(ev) != 1 || ev[0].Kind != "conflicting_final_receipt" {
		t.Fatalf("evidence %+v, %v", ev, err)
	}
	after := p.receipt(t, st, false)
	if _, err := p.req.RecordReceipt(ctx, &after, p.now()); !errors.Is(err, ErrAfterFinal) {
		t.Fatalf("after final: got %v", err)
	}

	pb, _ := p.prov.Balance(ctx, p.provider.Address())
	rb, _ := p.req.Balance(ctx, p.requester.Address())
	if pb.Earned != st.Cumulative || pb.Pending != st.Cumulative || pb.Settled != 0 {
		t.Fatalf("provider balance %+v, want earned=pending=%d", pb, st.Cumulative)
	}
	if rb.Spent != pb.Earned || rb.Deposited != p.ch.Deposit || rb.Earned != 0 {
		t.Fatalf("requester balance %+v; provider earned %d", rb, pb.Earned)
	}
	for _, by := range []Bucket{ByHour, ByDay, ByJob} {
		h, err := p.prov.History(ctx, p.provider.Address(), by, time.Time{})
		if err != nil || len(h) != 1 || h[0].Earned != pb.Earned {
			t.Fatalf("history by %s: %+v, %v", by, h, err)
		}
		if by == ByJob && h[0].Job != p.ag.JobHash {
			t.Fatalf("history by job names %s", h[0].Job.Hex())
		}
	}
}

func TestLedgerHistoryBuckets(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	base := time.Date(2027, 3, 1, 22, 30, 0, 0, time.UTC)
	clock := base
	ledgerNow = func() time.Time { return clock }
	t.Cleanup(func() { ledgerNow = time.Now })
	for i := 0; i < 4; i++ { // 22:30, 23:30, 00:30 next day, 01:30
		p.step(t, false)
		clock = clock.Add(time.Hour)
	}
	hours, _ := p.prov.History(ctx, p.provider.Address(), ByHour, time.Time{})
	days, _ := p.prov.History(ctx, p.provider.Address(), ByDay, time.Time{})
	if len(hours) != 4 || len(days) != 2 {
		t.Fatalf("%d hours, %d days; want 4 and 2", len(hours), len(days))
	}
	if !hours[0].Start.Equal(base.Truncate(time.Hour)) || !days[1].Start.Equal(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("bucket starts %v, %v", hours[0].Start, days[1].Start)
	}
	if days[0].Earned+days[1].Earned != hours[0].Earned+hours[1].Earned+hours[2].Earned+hours[3].Earned {
		t.Fatal("day and hour buckets disagree")
	}
	recent, _ := p.prov.History(ctx, p.provider.Address(), ByHour, base.Add(2*time.Hour))
	if len(recent) != 2 {
		t.Fatalf("since filter: %d rows", len(recent))
	}
	if _, err := p.prov.History(ctx, p.provider.Address(), "week", time.Time{}); err == nil {
		t.Fatal("unknown bucket accepted")
	}
}

func TestLedgerSettlementBackend(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	clock := p.now()
	prov := &LedgerSettlement{Ledger: p.prov, Domain: p.domain, Me: p.provider.Address(), Now: func() time.Time { return clock }}
	payerOnProv := &LedgerSettlement{Ledger: p.prov, Domain: p.domain, Me: p.requester.Address(), Now: func() time.Time { return clock }}
	v1 := p.step(t, false)
	v2 := p.step(t, false)

	if _, err := payerOnProv.Settle(ctx, &v2); !errors.Is(err, ErrNotPayee) {
		t.Fatalf("payer settles: got %v", err)
	}
	if _, err := payerOnProv.Close(ctx, &v2); !errors.Is(err, ErrNotPayee) {
		t.Fatalf("payer closes: got %v", err)
	}
	amt, err := prov.Settle(ctx, &v1)
	if err != nil || amt != v1.Cumulative {
		t.Fatalf("settle v1: %s, %v", amt, err)
	}
	if _, err := prov.Settle(ctx, &v1); !errors.Is(err, ErrReplay) {
		t.Fatalf("settling v1 twice: %v", err)
	}
	over := p.voucher(t, p.ch.Deposit+1)
	if _, err := prov.Settle(ctx, &over); !errors.Is(err, ErrAboveDeposit) {
		t.Fatalf("above deposit: %v", err)
	}
	b, _ := p.prov.Balance(ctx, p.provider.Address())
	if b.Settled != v1.Cumulative || b.Pending != v2.Cumulative-v1.Cumulative {
		t.Fatalf("balance %+v", b)
	}
	if err := p.prov.RecordPayout(ctx, p.provider.Address(), b.Settled+1, "bank", ""); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("payout above settled: %v", err)
	}
	if err := p.prov.RecordPayout(ctx, p.provider.Address(), b.Settled, "bank", "ref"); err != nil {
		t.Fatal(err)
	}

	if _, err := payerOnProv.Withdraw(ctx, p.ch.ID); !errors.Is(err, ErrNoCloseReq) {
		t.Fatalf("withdraw without request: %v", err)
	}
	if err := payerOnProv.RequestClose(ctx, p.ch.ID); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(CloseGrace - time.Minute)
	if _, err := payerOnProv.Withdraw(ctx, p.ch.ID); !errors.Is(err, ErrGracePeriod) {
		t.Fatalf("withdraw in grace: %v", err)
	}
	if amt, err := prov.Settle(ctx, &v2); err != nil || amt != v2.Cumulative-v1.Cumulative {
		t.Fatalf("settle during grace: %s %v", amt, err)
	}
	clock = clock.Add(2 * time.Minute)
	refund, err := payerOnProv.Withdraw(ctx, p.ch.ID)
	if err != nil || refund != p.ch.Deposit-v2.Cumulative {
		t.Fatalf("withdraw after grace: %s, %v", refund, err)
	}
	v3 := p.voucher(t, v2.Cumulative+1)
	if _, err := prov.Settle(ctx, &v3); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("settle after close: %v", err)
	}
	if err := payerOnProv.TopUp(ctx, p.ch.ID, 1); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("top-up after close: %v", err)
	}
	b, _ = p.prov.Balance(ctx, p.provider.Address())
	if b.Earned != v2.Cumulative || b.Settled != v2.Cumulative || b.Pending != 0 || b.PaidOut != v1.Cumulative {
		t.Fatalf("final balance %+v", b)
	}
}
