package wallet

import (
	"context"
	"testing"
	"time"
)

// BenchmarkVoucherSignVerify signs a voucher and verifies it as a payee
// does (domain, channel, low-s, recovery, signer, deposit). Run with
// -cpu 1 for the one-core figure; it reports vouchers/s.
func BenchmarkVoucherSignVerify(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		v, err := SignVoucher(f.domain, Voucher{ChannelID: f.ch.ID, Cumulative: Amount(i + 1)}, f.requester)
		if err != nil {
			b.Fatal(err)
		}
		if err := CheckVoucher(f.ch, Amount(i), &v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "vouchers/s")
}

// BenchmarkDurableReceiptWrite records a provider's receipts, each
// committed with synchronous=FULL before the call returns; it reports
// receipts/s. Receipts are signed ahead so only the durable write (and
// the rule check) is timed.
func BenchmarkDurableReceiptWrite(b *testing.B) {
	f := fixedFixture(b)
	l := openLedger(b, b.TempDir())
	ctx := context.Background()
	if err := l.AddChannel(ctx, LedgerBackend, f.ch); err != nil {
		b.Fatal(err)
	}
	if err := l.RecordAgreement(ctx, &f.ag); err != nil {
		b.Fatal(err)
	}
	rs := make([]SignedReceipt, 0, 1024)
	st := ReceiptState{}
	next := func() {
		rs = rs[:0]
		for j := 0; j < cap(rs); j++ {
			r := f.receipt(b, st, false)
			st = st.Advance(f.domain, &r.UsageReceipt)
			rs = append(rs, r)
		}
	}
	next()
	b.ResetTimer()
	start, j := time.Now(), 0
	var paused time.Duration
	for i := 0; i < b.N; i++ {
		if j == len(rs) {
			b.StopTimer()
			p := time.Now()
			next()
			j = 0
			paused += time.Since(p)
			b.StartTimer()
		}
		if _, err := l.RecordReceipt(ctx, &rs[j], f.now()); err != nil {
			b.Fatal(err)
		}
		j++
	}
	b.ReportMetric(float64(b.N)/(time.Since(start)-paused).Seconds(), "receipts/s")
}

// BenchmarkDurableVoucherWrite records vouchers as a payee does.
func BenchmarkDurableVoucherWrite(b *testing.B) {
	f := newFixture(b)
	f.ch.Deposit = 1 << 60
	l := openLedger(b, b.TempDir())
	ctx := context.Background()
	if err := l.AddChannel(ctx, LedgerBackend, f.ch); err != nil {
		b.Fatal(err)
	}
	vs := make([]SignedVoucher, b.N)
	for i := range vs {
		vs[i] = f.voucher(b, Amount(i+1))
	}
	b.ResetTimer()
	start := time.Now()
	for i := range vs {
		if _, err := l.RecordVoucher(ctx, &vs[i], f.ag.ID(f.domain)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "vouchers/s")
}
