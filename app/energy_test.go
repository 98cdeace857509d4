package app

import (
	"testing"

	"github.com/sparegpu/spare/localapi"
)

func TestEnergyWords(t *testing.T) {
	for mwh, want := range map[int64]string{0: "0.00 Wh", 83: "0.08 Wh", 9_999: "10.00 Wh", 12_345: "12.3 Wh", 4_560_000: "4.56 kWh"} {
		if got := wattHours(mwh); got != want {
			t.Errorf("wattHours(%d) = %q, want %q", mwh, got, want)
		}
	}
	w := &localapi.Wallet{Energy: localapi.Energy{TodayMWh: 83, WeekMWh: 12_345, MonthMWh: 4_560_000, Estimated: true}}
	if got, want := energyLine(w), "Electricity used by jobs: 0.08 Wh today, 12.3 Wh in 7 days, 4.56 kWh in 30 days (partly estimated from rated power)"; got != want {
		t.Errorf("energyLine = %q, want %q", got, want)
	}
	if energyLine(nil) != "" {
		t.Error("an energy line before the wallet was read")
	}
}
