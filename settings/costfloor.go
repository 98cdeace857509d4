package settings

import (
	"math/big"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// Power is the power a job's resources draw, as the floor counts it: one
// GPU's (0: no GPU) and one CPU core's, in milliwatts.
type Power struct {
	GPUMilliWatts, CoreMilliWatts int64
	// Estimated: a figure is an assumed rating, not a device's report.
	Estimated bool
}

// CostFloor is the owner's "never work at a loss" floor: the price per
// second of one GPU and of one CPU core that pays for their electricity
// at the owner's price per kWh, converted to the token at the owner's
// exchange rate, plus the owner's margin, each rounded up to a whole
// smallest unit. False when the option is off or no price reads.
// Integer arithmetic throughout; a second at mW milliwatts is mW/3600
// mWh, priced as ElectricityCost prices it:
//
//	per second = ⌈mW × price × (100 + margin) / (3600 × rate × 100)⌉
//
// with price (per kWh) and rate in millionths.
func CostFloor(s localapi.Settings, p Power) (market.Price, bool) {
	if !s.NoLoss || s.ElectricityPrice == "" || s.LossMargin < 0 || s.LossMargin > MaxLossMargin {
		return market.Price{}, false
	}
	price, err := wallet.ParseAmount(s.ElectricityPrice)
	if err != nil || price <= 0 {
		return market.Price{}, false
	}
	rate := wallet.Amount(1_000_000)
	if s.TokenRate != "" {
		if rate, err = wallet.ParseAmount(s.TokenRate); err != nil || rate <= 0 {
			return market.Price{}, false
		}
	}
	perSecond := func(mw int64) (uint64, bool) {
		if mw <= 0 {
			return 0, true
		}
		n := new(big.Int).Mul(big.NewInt(mw), big.NewInt(int64(price)))
		n.Mul(n, big.NewInt(int64(100+s.LossMargin)))
		d := new(big.Int).Mul(big.NewInt(3600*100), big.NewInt(int64(rate)))
		n.Add(n, new(big.Int).Sub(d, big.NewInt(1)))
		n.Quo(n, d)
		return n.Uint64(), n.IsUint64()
	}
	g, ok1 := perSecond(p.GPUMilliWatts)
	c, ok2 := perSecond(p.CoreMilliWatts)
	if !ok1 || !ok2 {
		return market.Price{}, false
	}
	return market.Price{PerGPUSecond: g, PerCPUSecond: c}, true
}

// DescribeFloor is the floor as the Settings page shows it: per hour of
// a GPU and of a core, with the power it counts.
func DescribeFloor(floor market.Price, p Power) *localapi.CostFloor {
	return &localapi.CostFloor{PerGPUHour: localapi.Amount(floor.PerGPUSecond * 3600), PerCoreHour: localapi.Amount(floor.PerCPUSecond * 3600),
		GPUMilliWatts: p.GPUMilliWatts, CoreMilliWatts: p.CoreMilliWatts, Estimated: p.Estimated}
}
