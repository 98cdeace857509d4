package market

import (
	"math"
	"testing"
)

func TestPricePerHour(t *testing.T) {
	for _, tc := range []struct{ perHour, want uint64 }{
		{0, 0}, {1, 1}, {3599, 1}, {3600, 1}, {3601, 2}, {360_000, 100}, {math.MaxUint64, math.MaxUint64/3600 + 1},
	} {
		p := PricePerHour(tc.perHour)
		if p.PerGPUSecond != tc.want || p.PerCPUSecond != tc.want {
			t.Errorf("PricePerHour(%d) = %+v, want %d per second", tc.perHour, p, tc.want)
		}
		if p.PerGPUSecond*3600 < tc.perHour && tc.perHour < math.MaxUint64-3600 {
			t.Errorf("PricePerHour(%d) undercuts the hourly figure", tc.perHour)
		}
	}
}
