package settings

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

func good() localapi.Settings {
	return localapi.Settings{IdleMinutes: 5, MaxTempC: 80, Schedule: "always", Workloads: []string{"render", "inference"}}
}

// mustKey is a fresh libp2p public key.
func mustKey(t *testing.T) crypto.PubKey {
	_, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestValidate(t *testing.T) {
	with := func(f func(*localapi.Settings)) localapi.Settings { s := good(); f(&s); return s }
	for _, tc := range []struct {
		name   string
		in     localapi.Settings
		fields []string // every field named, in order; none: valid
	}{
		{"good", good(), nil},
		{"idle too short", with(func(s *localapi.Settings) { s.IdleMinutes = 0 }), []string{FieldIdleMinutes}},
		{"idle too long", with(func(s *localapi.Settings) { s.IdleMinutes = MaxIdleMinutes + 1 }), []string{FieldIdleMinutes}},
		{"too cold a limit", with(func(s *localapi.Settings) { s.MaxTempC = 20 }), []string{FieldMaxTempC}},
		{"schedule", with(func(s *localapi.Settings) { s.Schedule = "nights" }), []string{FieldSchedule}},
		{"schedule 24:00", with(func(s *localapi.Settings) { s.Schedule = "22:00-24:00" }), []string{FieldSchedule}},
		{"price not a number", with(func(s *localapi.Settings) { s.PriceFloor = "cheap" }), []string{FieldPriceFloor}},
		{"price zero", with(func(s *localapi.Settings) { s.PriceFloor = "0" }), []string{FieldPriceFloor}},
		{"price too high", with(func(s *localapi.Settings) { s.PriceFloor = "1000.000001" }), []string{FieldPriceFloor}},
		{"electricity price", with(func(s *localapi.Settings) { s.ElectricityPrice = "0.32" }), nil},
		{"electricity price not a number", with(func(s *localapi.Settings) { s.ElectricityPrice = "cheap" }), []string{FieldElectricity}},
		{"electricity price zero", with(func(s *localapi.Settings) { s.ElectricityPrice = "0" }), []string{FieldElectricity}},
		{"electricity price huge", with(func(s *localapi.Settings) { s.ElectricityPrice = "100.000001" }), []string{FieldElectricity}},
		{"electricity price negative", with(func(s *localapi.Settings) { s.ElectricityPrice = "-1" }), []string{FieldElectricity}},
		{"currency", with(func(s *localapi.Settings) { s.Currency = "EUR" }), nil},
		{"currency not ISO 4217", with(func(s *localapi.Settings) { s.Currency = "ABC" }), []string{FieldCurrency}},
		{"currency lower case", with(func(s *localapi.Settings) { s.Currency = "eur" }), []string{FieldCurrency}},
		{"currency hostile", with(func(s *localapi.Settings) { s.Currency = "EUR\x1b[31m" + strings.Repeat("A", 1000) }), []string{FieldCurrency}},
		{"token rate zero", with(func(s *localapi.Settings) { s.TokenRate = "0" }), []string{FieldTokenRate}},
		{"token rate huge", with(func(s *localapi.Settings) { s.TokenRate = "1000000000000" }), []string{FieldTokenRate}},
		{"unknown kind", with(func(s *localapi.Settings) { s.Workloads = []string{"render", "mining"} }), []string{FieldWorkloads}},
		{"no kind", with(func(s *localapi.Settings) { s.Workloads = nil }), []string{FieldWorkloads}},
		{"iou peer", with(func(s *localapi.Settings) {
			s.IOUPeers = []string{"12D3KooWKZqpRQwiRYsUgNh3Mr91cGtkgpUjRKMUXc9BErg4kCRw"}
		}), nil},
		{"iou peer hostile", with(func(s *localapi.Settings) { s.IOUPeers = []string{"12D3\x1b[31m" + strings.Repeat("K", 1000)} }), []string{FieldIOUPeers}},
		{"iou peers too many", with(func(s *localapi.Settings) {
			for range MaxIOUPeers + 1 {
				id, _ := peer.IDFromPublicKey(mustKey(t))
				s.IOUPeers = append(s.IOUPeers, id.String())
			}
		}), []string{FieldIOUPeers}},
		{"several", with(func(s *localapi.Settings) { s.IdleMinutes, s.Schedule = -1, "x" }), []string{FieldIdleMinutes, FieldSchedule}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(tc.in)
			var got []string
			for _, e := range unjoin(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("error %v names no field", e)
				}
				got = append(got, fe.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
	s, err := Validate(localapi.Settings{IdleMinutes: 5, MaxTempC: 80, Schedule: "  22:00-07:00 ", PriceFloor: " 0.36 ",
		Workloads: []string{"render", "inference", "render"}, CommandLine: []string{FieldIdleMinutes}})
	if err != nil || s.Schedule != "22:00-07:00" || s.PriceFloor != "0.36" || !slices.Equal(s.Workloads, []string{"inference", "render"}) || s.CommandLine != nil {
		t.Fatalf("cleaned %+v, %v", s, err)
	}
	if _, err := Validate(localapi.Settings{IdleMinutes: 5, MaxTempC: 80, Schedule: strings.Repeat("x", 10000), Workloads: []string{"render"}}); err == nil || len(err.Error()) > 200 {
		t.Fatalf("a long bad value is quoted clipped: %v", err)
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestTerms(t *testing.T) {
	s := good()
	if p, k := Terms(s, nil); p != nil || k != nil {
		t.Fatalf("no floor, both kinds: %v %v", p, k)
	}
	s.PriceFloor, s.Workloads = "0.36", []string{"render"}
	p, k := Terms(s, nil)
	if p == nil || p.PerGPUSecond != 100 || p.PerCPUSecond != 100 || !slices.Equal(k, []market.Kind{market.KindRender}) {
		t.Fatalf("0.36 an hour, render only: %v %v", p, k)
	}
	if p, _ := Terms(s, []string{FieldPriceFloor}); p != nil {
		t.Fatalf("a floor pinned by the command line leaves the daemon's price: %v", p)
	}
}

func TestResolve(t *testing.T) {
	cmdline := governor.Settings{IdleBefore: 20 * time.Second, MaxTempC: 70}
	// Nothing saved: the command line's exactly, seconds included.
	s, pinned, set := Resolve(cmdline, localapi.Settings{}, false, []string{FieldIdleMinutes, "bogus"})
	if set.IdleBefore != 20*time.Second || s.IdleMinutes != 1 || s.MaxTempC != 70 || !slices.Equal(pinned, []string{FieldIdleMinutes}) {
		t.Fatalf("first run: %+v %v %+v", s, pinned, set)
	}
	// Saved settings rule, except what the command line pinned.
	saved := good()
	saved.IdleMinutes, saved.MaxTempC, saved.PriceFloor = 30, 75, "1"
	s, pinned, set = Resolve(cmdline, saved, true, []string{FieldMaxTempC, FieldPriceFloor})
	if set.IdleBefore != 30*time.Minute || set.MaxTempC != 70 || s.MaxTempC != 70 || s.PriceFloor != "" || len(pinned) != 2 {
		t.Fatalf("saved and pinned: %+v %v %+v", s, pinned, set)
	}
}

func TestLoadSave(t *testing.T) {
	dir := t.TempDir()
	if _, found, err := Load(dir); found || err != nil {
		t.Fatalf("nothing saved: %v %v", found, err)
	}
	s, err := Validate(good())
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(dir, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, File))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings file %v %v: want 0600", fi, err)
	}
	got, found, err := Load(dir)
	if !found || err != nil || !slices.Equal(got.Workloads, s.Workloads) || got.IdleMinutes != s.IdleMinutes {
		t.Fatalf("read back %+v %v %v", got, found, err)
	}
	for name, body := range map[string]string{
		"not JSON":      `{"idle_minutes": "soon"`,
		"unknown field": `{"idle_minutes": 5, "max_temp_c": 80, "workloads": ["render"], "price": "free"}`,
		"invalid value": `{"idle_minutes": 0, "max_temp_c": 80, "workloads": ["render"]}`,
		"too large":     `{"schedule": "` + strings.Repeat(" ", maxFile) + `"}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, File), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, found, err := Load(dir); found || err == nil || !strings.Contains(err.Error(), "fix or remove the file") {
			t.Errorf("%s: found %v, err %v: want an error saying what to do", name, found, err)
		}
	}
}

// TestElectricityCost: the energy at the owner's price per kWh, through
// the owner's rate for the token, in the token's smallest units, rounded
// up, in integers; none without a price, none on overflow.
func TestElectricityCost(t *testing.T) {
	for _, tc := range []struct {
		name        string
		price, rate string
		mwh         int64
		want        localapi.Amount
		ok          bool
	}{
		{"no price", "", "", 1_000_000, 0, false},
		{"1 kWh at 0.32, token at par", "0.32", "", 1_000_000, 320_000, true},
		{"1 kWh at 0.32 EUR, 1 USDC = 0.92 EUR", "0.32", "0.92", 1_000_000, 347_827, true},
		{"83 mWh at 0.32", "0.32", "", 83, 27, true},
		{"nothing used", "0.32", "", 0, 0, true},
		{"overflow", "100", "0.000001", 1 << 62, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ElectricityCost(localapi.Settings{ElectricityPrice: tc.price, TokenRate: tc.rate}, tc.mwh)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("cost %v (%v), want %v (%v)", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestCostFloor is the "never work at a loss" floor: a device's power at
// the owner's price per kWh, in the token at the owner's rate, plus the
// margin, rounded up per second.
func TestCostFloor(t *testing.T) {
	on := localapi.Settings{NoLoss: true, ElectricityPrice: "0.32", TokenRate: "0.92"}
	tests := []struct {
		name string
		set  func(*localapi.Settings)
		p    Power
		want market.Price
		off  bool
	}{
		// 350 W: 0.35 kWh an hour × 0.32 = 0.112 a hour / 0.92 = 0.121739 tokens; 33.8 a second → 34.
		{name: "a 350 W GPU", p: Power{GPUMilliWatts: 350_000}, want: market.Price{PerGPUSecond: 34}},
		{name: "with a 20 % margin", set: func(s *localapi.Settings) { s.LossMargin = 20 }, p: Power{GPUMilliWatts: 350_000}, want: market.Price{PerGPUSecond: 41}},
		{name: "a core of a 65 W CPU with 8 cores", p: Power{CoreMilliWatts: 65_000 / 8}, want: market.Price{PerCPUSecond: 1}},
		{name: "both", set: func(s *localapi.Settings) { s.ElectricityPrice, s.TokenRate = "3.6", "" }, p: Power{GPUMilliWatts: 250_000, CoreMilliWatts: 10_000},
			want: market.Price{PerGPUSecond: 250, PerCPUSecond: 10}},
		{name: "exact needs no rounding", set: func(s *localapi.Settings) { s.ElectricityPrice, s.TokenRate = "3.6", "1" }, p: Power{GPUMilliWatts: 1_000}, want: market.Price{PerGPUSecond: 1}},
		{name: "the token worth more", set: func(s *localapi.Settings) { s.ElectricityPrice, s.TokenRate = "0.30", "2" }, p: Power{GPUMilliWatts: 300_000}, want: market.Price{PerGPUSecond: 13}},
		{name: "no power, no floor", p: Power{}, want: market.Price{}},
		{name: "option off", set: func(s *localapi.Settings) { s.NoLoss = false }, p: Power{GPUMilliWatts: 350_000}, off: true},
		{name: "no electricity price", set: func(s *localapi.Settings) { s.ElectricityPrice = "" }, p: Power{GPUMilliWatts: 350_000}, off: true},
		{name: "margin out of range", set: func(s *localapi.Settings) { s.LossMargin = MaxLossMargin + 1 }, p: Power{GPUMilliWatts: 350_000}, off: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := on
			if tc.set != nil {
				tc.set(&s)
			}
			got, ok := CostFloor(s, tc.p)
			if ok == tc.off {
				t.Fatalf("CostFloor ok = %v; want %v", ok, !tc.off)
			}
			if got != tc.want {
				t.Fatalf("CostFloor = %+v; want %+v", got, tc.want)
			}
		})
	}
	d := DescribeFloor(market.Price{PerGPUSecond: 34, PerCPUSecond: 1}, Power{GPUMilliWatts: 350_000, CoreMilliWatts: 8_125, Estimated: true})
	if d.PerGPUHour.String() != "0.122400" || d.PerCoreHour.String() != "0.003600" || !d.Estimated {
		t.Fatalf("DescribeFloor = %+v", d)
	}
}

func TestNoLossNeedsPrice(t *testing.T) {
	s := good()
	s.NoLoss = true
	if _, err := Validate(s); err == nil || !strings.Contains(err.Error(), FieldNoLoss+": ") || !strings.Contains(err.Error(), "electricity_price") {
		t.Fatalf("no_loss without a price: %v", err)
	}
	s.ElectricityPrice, s.LossMargin = "0.30", -1
	if _, err := Validate(s); err == nil || !strings.Contains(err.Error(), FieldLossMargin+": -1 %") {
		t.Fatalf("negative margin: %v", err)
	}
	s.LossMargin = 15
	s.CostFloor = &localapi.CostFloor{PerGPUHour: 1}
	got, err := Validate(s)
	if err != nil || got.CostFloor != nil || !got.NoLoss || got.LossMargin != 15 {
		t.Fatalf("Validate = %+v, %v", got, err)
	}
}

func TestElectricityCostLocal(t *testing.T) {
	s := localapi.Settings{ElectricityPrice: "0.32", TokenRate: "0.92", Currency: "EUR"}
	for mwh, want := range map[int64]localapi.Money{0: 0, 1: 1, 1_000_000: 320_000, 1_500_000: 480_000, 83: 27} {
		if got, ok := ElectricityCostLocal(s, mwh); !ok || got != want {
			t.Errorf("ElectricityCostLocal(%d mWh) = %d, %v; want %d", mwh, got, ok, want)
		}
	}
	if _, ok := ElectricityCostLocal(localapi.Settings{}, 1000); ok {
		t.Error("a cost with no price set")
	}
}
