package evm

import (
	"testing"
	"time"

	"github.com/sparegpu/spare/wallet"
)

func TestShouldSettle(t *testing.T) {
	p := SettlePolicy{Threshold: 1_000_000, GasFactor: 10, Margin: time.Hour}
	for _, c := range []struct {
		name string
		s    SettleState
		p    SettlePolicy
		want bool
	}{
		{"nothing unsettled", SettleState{}, p, false},
		{"nothing unsettled, closing", SettleState{Closing: true, WithdrawIn: time.Minute}, p, false},
		{"a receipt's worth, open", SettleState{Unsettled: 1_000}, p, false},
		{"just below the threshold", SettleState{Unsettled: 999_999}, p, false},
		{"at the threshold", SettleState{Unsettled: 1_000_000}, p, true},
		{"gas raises the threshold", SettleState{Unsettled: 1_500_000, GasCost: 200_000}, p, false},
		{"worth ten times the gas", SettleState{Unsettled: 2_000_000, GasCost: 200_000}, p, true},
		{"cheap gas keeps the threshold", SettleState{Unsettled: 999_999, GasCost: 1}, p, false},
		{"gas dearer than any threshold: not while open", SettleState{Unsettled: 1 << 40, GasCost: 1 << 61}, p, false},
		{"gas dearer than any threshold: on close", SettleState{Unsettled: 1 << 40, GasCost: 1 << 61, Closing: true, WithdrawIn: 20 * time.Hour}, p, true},
		{"close requested, a small amount", SettleState{Unsettled: 1_000, Closing: true, WithdrawIn: 20 * time.Hour}, p, true},
		{"grace nearly over", SettleState{Unsettled: 1, Closing: true, WithdrawIn: 30 * time.Minute}, p, true},
		{"grace over, channel still open on chain", SettleState{Unsettled: 1, Closing: true, WithdrawIn: -time.Minute}, p, true},
		{"zero policy: default threshold", SettleState{Unsettled: DefaultSettleThreshold - 1}, SettlePolicy{}, false},
		{"zero policy: at the default threshold", SettleState{Unsettled: DefaultSettleThreshold}, SettlePolicy{}, true},
		{"zero policy: default gas factor", SettleState{Unsettled: DefaultGasFactor*100_000 - 1, GasCost: 100_000}, SettlePolicy{}, false},
		{"development chain: threshold 1", SettleState{Unsettled: 1}, SettlePolicy{Threshold: 1}, true},
	} {
		got, why := ShouldSettle(c.s, c.p)
		if got != c.want {
			t.Errorf("%s: ShouldSettle(%+v) = %v (%s), want %v", c.name, c.s, got, why, c.want)
		}
		if why == "" {
			t.Errorf("%s: no reason given", c.name)
		}
	}
}

// TestSettlementsPerJob counts the settlement transactions the policy
// the policy sends over a job paid by a receipt a minute, the job's end
// not included (the watcher settles the rest on close): one per
// threshold's worth of value, not one per receipt.
func TestSettlementsPerJob(t *testing.T) {
	for _, c := range []struct {
		name     string
		receipts int
		each     wallet.Amount
		want     int
	}{
		{"one-minute job at 0.05/min", 1, 50_000, 0},
		{"one-hour job at 0.05/min", 60, 50_000, 3},
		{"one-hour job at 0.001/min", 60, 1_000, 0},
	} {
		settles, unsettled := 0, wallet.Amount(0)
		for range c.receipts {
			unsettled += c.each
			if ok, _ := ShouldSettle(SettleState{Unsettled: unsettled}, SettlePolicy{}); ok {
				settles++
				unsettled = 0
			}
		}
		if settles != c.want {
			t.Errorf("%s: %d settlements, want %d", c.name, settles, c.want)
		}
	}
}
