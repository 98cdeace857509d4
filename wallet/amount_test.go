package wallet

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

// bigCost is the cost formula in arbitrary precision, as Agreement.Cost
// once computed it: the reference MeteredCost is checked against.
func bigCost(gpuMs, cpuMs, perGPU, perCPU uint64) *big.Int {
	g := new(big.Int).Mul(new(big.Int).SetUint64(gpuMs), new(big.Int).SetUint64(perGPU))
	c := new(big.Int).Mul(new(big.Int).SetUint64(cpuMs), new(big.Int).SetUint64(perCPU))
	g.Add(g, c)
	return g.Quo(g, big.NewInt(1000))
}

func checkMeteredCost(t *testing.T, gpuMs, cpuMs, perGPU, perCPU uint64) {
	t.Helper()
	want := bigCost(gpuMs, cpuMs, perGPU, perCPU)
	got, ok := MeteredCost(gpuMs, cpuMs, perGPU, perCPU)
	if ok != want.IsUint64() || (ok && got != want.Uint64()) {
		t.Errorf("MeteredCost(%d, %d, %d, %d) = %d, %v; want %v", gpuMs, cpuMs, perGPU, perCPU, got, ok, want)
	}
}

func TestMeteredCost(t *testing.T) {
	const m = math.MaxUint64
	tests := []struct {
		name                         string
		gpuMs, cpuMs, perGPU, perCPU uint64
	}{
		{"zero", 0, 0, 0, 0},
		{"zero counters", 0, 0, m, m},
		{"zero prices", m, m, 0, 0},
		{"rounds down", 1, 1, 999, 0},
		{"one unit", 1, 1, 500, 500},
		{"half cores", 0, 5000, 0, 7},
		{"largest exact", m, 0, 999, 0},
		{"just fits", m, 0, 1000, 0},
		{"just overflows", m, 1, 1000, 1000},
		{"overflows 128 bits", m, m, m, m},
		{"int64 prices", m, m, math.MaxInt64, math.MaxInt64},
		{"largest Amount", math.MaxInt64, 0, 1000, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkMeteredCost(t, tc.gpuMs, tc.cpuMs, tc.perGPU, tc.perCPU) })
	}
}

func FuzzMeteredCost(f *testing.F) {
	f.Add(uint64(10_000), uint64(20_000), uint64(5), uint64(7))
	f.Add(uint64(math.MaxUint64), uint64(1), uint64(1000), uint64(1000))
	f.Fuzz(checkMeteredCost)
}

func TestAgreementCostBounds(t *testing.T) {
	tests := []struct {
		name         string
		gpuMs, cpuMs uint64
		perGPU       Amount
		perCPU       Amount
		want         Amount
		wantErr      bool
	}{
		{"zero", 0, 0, 0, 0, 0, false},
		{"largest Amount", math.MaxInt64, 0, 1000, 0, math.MaxInt64, false},
		{"one past", math.MaxInt64, 1000, 1000, 1, 0, true},
		{"past 64 bits", math.MaxUint64, math.MaxUint64, math.MaxInt64, math.MaxInt64, 0, true},
		{"negative price", 1000, 0, -1, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Agreement{PricePerGPUSecond: tc.perGPU, PricePerCPUSecond: tc.perCPU}
			got, err := a.Cost(tc.gpuMs, tc.cpuMs)
			if errors.Is(err, ErrAmount) != tc.wantErr || (err != nil && !tc.wantErr) || got != tc.want {
				t.Errorf("Cost = %d, %v; want %d (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
