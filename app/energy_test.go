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
	w = &localapi.Wallet{Today: 1_000_000, Week: 5_000_000, Month: 20_000_000,
		Energy: localapi.Energy{TodayMWh: 1_000_000, WeekMWh: 5_000_000, MonthMWh: 90_000_000, Priced: true, CostToday: 320_000, CostWeek: 1_600_000, CostMonth: 28_800_000}}
	want := "Electricity used by jobs: 1.00 kWh today, 5.00 kWh in 7 days, 90.00 kWh in 30 days" +
		"\nIts cost: 0.320000 today, 1.600000 in 7 days, 28.800000 in 30 days (USDC)" +
		"\nEarned after electricity: 0.680000 today, 3.400000 in 7 days, -8.800000 in 30 days (USDC)"
	if got := energyLine(w); got != want {
		t.Errorf("energyLine =\n%s\nwant\n%s", got, want)
	}
	if energyLine(nil) != "" {
		t.Error("an energy line before the wallet was read")
	}
}

func TestFloorLine(t *testing.T) {
	if got := FloorLine(localapi.Settings{}); got != "" {
		t.Errorf("a floor line with the option off: %q", got)
	}
	s := localapi.Settings{NoLoss: true, CostFloor: &localapi.CostFloor{PerGPUHour: 122_400, PerCoreHour: 3_600, GPUMilliWatts: 350_000, CoreMilliWatts: 8_125}}
	if got, want := FloorLine(s), "Never at a loss: jobs must pay at least 0.122400 USDC per GPU-hour (350 W) and 0.003600 USDC per core-hour (8.1 W)."; got != want {
		t.Errorf("FloorLine = %q, want %q", got, want)
	}
	s.CostFloor = &localapi.CostFloor{PerCoreHour: 3_600, CoreMilliWatts: 16_250, Estimated: true}
	if got, want := FloorLine(s), "Never at a loss: jobs must pay at least 0.003600 USDC per core-hour (16.2 W), estimated from rated power."; got != want {
		t.Errorf("FloorLine = %q, want %q", got, want)
	}
}

func TestJobEnergyLine(t *testing.T) {
	a := localapi.Activity{Kind: localapi.ActivityJob, Job: "0x0a00000000000000000000000000000000000000000000000000000000000000", Amount: 2_000_000}
	if got := jobEnergyLine(a); got != "" {
		t.Errorf("a job of unknown energy: %q", got)
	}
	a.EnergyMWh, a.EnergyEstimated = 1_000_000, true
	if got, want := jobEnergyLine(a), "\n      1.00 kWh of electricity (estimated)"; got != want {
		t.Errorf("unpriced: %q, want %q", got, want)
	}
	a.EnergyEstimated, a.Priced, a.Electricity = false, true, 400_000
	if got, want := jobEnergyLine(a), "\n      1.00 kWh, electricity 0.400000 USDC, net +1.600000 USDC"; got != want {
		t.Errorf("priced in the token: %q, want %q", got, want)
	}
	a.Currency, a.ElectricityLocal, a.Amount = "EUR", 320_000, 50_000
	if got, want := jobEnergyLine(a), "\n      1.00 kWh, electricity 0.32 EUR, net -0.350000 USDC"; got != want {
		t.Errorf("priced in EUR: %q, want %q", got, want)
	}
	w := &localapi.Wallet{Energy: localapi.Energy{TodayMWh: 1_102_000, WeekMWh: 1_102_000, MonthMWh: 1_102_000, Priced: true,
		CostToday: 440_800, CostWeek: 440_800, CostMonth: 440_800, Currency: "JPY", LocalToday: 52_896_000, LocalWeek: 52_896_000, LocalMonth: 52_896_000}}
	want := "Electricity used by jobs: 1.10 kWh today, 1.10 kWh in 7 days, 1.10 kWh in 30 days" +
		"\nIts cost: 53 JPY today, 53 JPY in 7 days, 53 JPY in 30 days" +
		"\nEarned after electricity: -0.440800 today, -0.440800 in 7 days, -0.440800 in 30 days (USDC)"
	if got := energyLine(w); got != want {
		t.Errorf("energyLine =\n%s\nwant\n%s", got, want)
	}
}
