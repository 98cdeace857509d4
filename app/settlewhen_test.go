package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// TestSettleWhen: the Wallet page's sentence on when a channel's pending
// earnings settle follows the daemon's policy (wallet/evm's ShouldSettle)
// for each of its inputs: the threshold, raised by the gas; a close
// request; the grace period's end. Each row's sentence says "next check"
// exactly when ShouldSettle would settle now.
func TestSettleWhen(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	pol := evm.SettlePolicy{Threshold: 1_000_000, GasFactor: 20}
	at := func(d time.Duration) string { return now.Add(d).Local().Format("2 Jan 15:04") }
	for _, c := range []struct {
		name      string
		unsettled wallet.Amount
		gas       wallet.Amount // a settlement's gas in the token; 0: unknown
		by        time.Duration // from now, when the payer may withdraw; 0: no close requested
		want      string
	}{
		{"below the threshold", 350_000, 0, 0,
			"settles when its unsettled earnings reach 1.000000 tUSD (now 0.350000), or as soon as its payer asks to close, whichever comes first"},
		{"just below", 999_999, 0, 0,
			"settles when its unsettled earnings reach 1.000000 tUSD (now 0.999999), or as soon as its payer asks to close, whichever comes first"},
		{"at the threshold", 1_000_000, 0, 0,
			"1.000000 tUSD unsettled, at or above the threshold of 1.000000 tUSD: settles at the daemon's next check (every 15s)"},
		{"cheap gas keeps the threshold", 350_000, 1_000, 0,
			"settles when its unsettled earnings reach 1.000000 tUSD (now 0.350000), or as soon as its payer asks to close, whichever comes first"},
		{"gas raises the threshold", 1_500_000, 200_000, 0,
			"settles when its unsettled earnings reach 4.000000 tUSD (now 1.500000; 20 times a settlement's gas of 0.200000), or as soon as its payer asks to close, whichever comes first"},
		{"worth the dear gas", 4_000_000, 200_000, 0,
			"4.000000 tUSD unsettled, at or above the threshold of 4.000000 tUSD: settles at the daemon's next check (every 15s)"},
		{"gas dearer than any amount", 1 << 40, 1 << 61, 0,
			fmt.Sprintf("1099511.627776 tUSD unsettled; a settlement's gas (%s tUSD) costs more than any amount it could pay: settles only once its payer asks to close", wallet.Amount(1<<61))},
		{"close requested, a small amount", 1_000, 0, 20 * time.Hour,
			"0.001000 tUSD unsettled; its payer asked to close: settles at the daemon's next check (every 15s), before " + at(20*time.Hour) + ", when the payer may withdraw"},
		{"close requested, dear gas", 1_000, 1 << 61, 20 * time.Hour,
			"0.001000 tUSD unsettled; its payer asked to close: settles at the daemon's next check (every 15s), before " + at(20*time.Hour) + ", when the payer may withdraw"},
		{"grace period over, not withdrawn", 1_000, 0, -time.Minute,
			"0.001000 tUSD unsettled; the grace period ended " + at(-time.Minute) + ": settles at the daemon's next check (every 15s) unless the payer withdraws first, and then it is lost"},
	} {
		r := localapi.SettleRule{Threshold: localapi.Amount(pol.Need(c.gas)), Base: localapi.Amount(pol.Need(0)),
			GasFactor: pol.Factor(), GasCost: localapi.Amount(c.gas), CheckSeconds: int64(evm.DefaultWatchInterval / time.Second)}
		p := localapi.PendingSettlement{Channel: "0x01", Amount: localapi.Amount(c.unsettled)}
		if c.by != 0 {
			p.By = now.Add(c.by)
		}
		got := settleWhen(p, r, "tUSD", now)
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
		due, why := evm.ShouldSettle(evm.SettleState{Unsettled: c.unsettled, GasCost: c.gas, Closing: c.by != 0, WithdrawIn: c.by}, pol)
		if says := strings.Contains(got, "next check"); says != due {
			t.Errorf("%s: the sentence says settling now is %v, ShouldSettle %v (%s)", c.name, says, due, why)
		}
	}
	// A daemon that did not say its rule (older, or no chain read yet).
	if got, want := settleWhen(localapi.PendingSettlement{Amount: 5}, localapi.SettleRule{}, "tUSD", now),
		"0.000005 tUSD unsettled; settles when that is worth a settlement's gas, or as soon as its payer asks to close, whichever comes first"; got != want {
		t.Errorf("no rule:\n got %q\nwant %q", got, want)
	}
}
