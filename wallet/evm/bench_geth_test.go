package evm

import (
	"context"
	"log/slog"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/internal/gethtest"
	"github.com/sparegpu/spare/wallet"
)

// BenchmarkSettlementOnGeth measures the escrow on a real node (geth
// --dev, a block a second; scripts/bench.sh runs it through
// with-services.sh): gas per channel open (approve + open) and per
// settle; transactions per job, both wallets' together, for a one-minute
// and a one-hour job paid a receipt a minute at 3 tokens an hour, under
// the default settle policy (settle at 1 token unsettled, on a close
// request, at the job's end when due), from the deposit to the payee's
// last settlement after the payer's close request (the payer's withdraw
// after the grace period is one more); and the time from a voucher to
// its settlement confirmed.
func BenchmarkSettlementOnGeth(b *testing.B) {
	node := gethtest.Start(b)
	ctx := context.Background()
	payer, _ := wallet.GenerateKey()
	payee, _ := wallet.GenerateKey()
	node.Fund(b, payee.Address(), big.NewInt(1e18))
	n, err := Deploy(ctx, node.Client, payer, DeployOptions{RPC: node.URL, Faucet: 1_000_000_000, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	open := func(k *wallet.Key) *Backend {
		l, err := wallet.OpenLedger(b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close() })
		be, err := Open(ctx, node.Client, n, k, l, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		be.Policy = SettlePolicy{} // the default, as on a public network (the dev preset settles every job)
		return be
	}
	pb, qb := open(payer), open(payee)
	gas := map[string][]uint64{}
	record := func(p Progress) {
		if p.Confirmations != 1 {
			return
		}
		if rc, err := node.Client.TransactionReceipt(ctx, p.Tx); err == nil {
			gas[p.Call] = append(gas[p.Call], rc.GasUsed)
		}
	}
	pb.Progress, qb.Progress = record, record
	nonces := func() uint64 {
		a, err1 := node.Client.NonceAt(ctx, payer.Address(), nil)
		c, err2 := node.Client.NonceAt(ctx, payee.Address(), nil)
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		return a + c
	}
	const perMinute = wallet.Amount(50_000) // 3 tokens an hour
	job := func(minutes int) uint64 {
		before := nonces()
		ch, err := pb.OpenFor(ctx, payee.Address(), payer.Address(), wallet.Amount(minutes+1)*perMinute, time.Duration(minutes)*time.Minute+time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := qb.CheckFunding(ctx, ch.ID, payer.Address(), wallet.Amount(minutes)*perMinute); err != nil {
			b.Fatal(err)
		}
		w := &Watcher{Backend: qb}
		for m := 1; m <= minutes; m++ {
			v, err := wallet.SignVoucher(pb.Domain(), wallet.Voucher{ChannelID: ch.ID, Cumulative: wallet.Amount(m) * perMinute}, payer)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := qb.ledger.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
				b.Fatal(err)
			}
			if _, err := w.Poll(ctx); err != nil { // the watcher polls at least once per receipt
				b.Fatal(err)
			}
		}
		if _, err := qb.SettleDue(ctx, ch.ID); err != nil { // the provider at the job's end
			b.Fatal(err)
		}
		if err := pb.RequestClose(ctx, ch.ID); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Poll(ctx); err != nil {
			b.Fatal(err)
		}
		if s, _ := qb.Settled(ctx, ch.ID); s != wallet.Amount(minutes)*perMinute {
			b.Fatalf("%d-minute job: settled %s, want %s", minutes, s, wallet.Amount(minutes)*perMinute)
		}
		return nonces() - before
	}
	b.ResetTimer()
	var txMinute, txHour uint64
	var latency []time.Duration
	for range b.N {
		txMinute = job(1)
		txHour = job(60)
		ch, err := pb.Open(ctx, payee.Address(), payer.Address(), 10_000_000)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := qb.CheckFunding(ctx, ch.ID, payer.Address(), 1); err != nil {
			b.Fatal(err)
		}
		for i := 1; i <= 5; i++ {
			v, err := wallet.SignVoucher(pb.Domain(), wallet.Voucher{ChannelID: ch.ID, Cumulative: wallet.Amount(i) * 100_000}, payer)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if _, err := qb.ledger.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
				b.Fatal(err)
			}
			if amt, err := qb.SettleBest(ctx, ch.ID); err != nil || amt != 100_000 {
				b.Fatalf("settle: %s, %v", amt, err)
			}
			latency = append(latency, time.Since(start))
		}
	}
	b.StopTimer()
	median := func(xs []uint64) float64 {
		if len(xs) == 0 {
			return 0
		}
		s := slices.Clone(xs)
		slices.Sort(s)
		return float64(s[len(s)/2])
	}
	slices.Sort(latency)
	b.ReportMetric(median(gas["approve"]), "gas/approve")
	b.ReportMetric(median(gas["open"]), "gas/open")
	b.ReportMetric(median(gas["settle"]), "gas/settle")
	b.ReportMetric(float64(txMinute), "tx/1min-job")
	b.ReportMetric(float64(txHour), "tx/1h-job")
	b.ReportMetric(float64(latency[len(latency)/2].Milliseconds()), "ms-voucher-to-confirmed")
	b.ReportMetric(0, "ns/op")
	b.Logf("settle gas %v, open gas %v; voucher to confirmed %v", gas["settle"], gas["open"], latency)
}
