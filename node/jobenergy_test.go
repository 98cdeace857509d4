package node

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// TestJobEnergyInHistory: two paid runs in a real wallet, their energy
// recorded as jobs end (one measured, one partly estimated, one run of
// another job the wallet does not know): GET /v1/wallet gives each
// history line its energy, and with the owner's price and currency its
// electricity cost in the token and in the owner's currency.
func TestJobEnergyInHistory(t *testing.T) {
	dir := t.TempDir()
	w := wallettest.Open(t, dir)
	a := wallettest.PaidJob(t, w, common.Hash{0xa}, 2_000_000)
	b := wallettest.PaidJob(t, w, common.Hash{0xb}, 50_000)
	d, c := apiDaemon(t, dir, DaemonConfig{Wallet: w})
	ctx := context.Background()

	// The way jobs end: tagged with their agreement as they start,
	// recorded with the energy counted.
	now := time.Now()
	for _, r := range []struct {
		job, tag string
		mj       int64
		est      bool
	}{{"job-a", a.Hex(), 3_600_000_000, false}, {"job-b", b.Hex(), 360_000_000, true}, {"job-x", "", 7_200_000, false}} {
		if r.tag != "" {
			d.TagJobEnergy(r.job, r.tag)
		}
		d.energy.mu.Lock()
		if d.energy.jobs == nil {
			d.energy.jobs = map[string]JobEnergy{}
		}
		d.energy.jobs[r.job] = JobEnergy{MilliJoules: r.mj, Estimated: r.est} // what the meter counted
		d.energy.mu.Unlock()
		d.recordEnergy(r.job, now)
	}

	fig, err := c.Wallet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]localapi.Activity{}
	for _, h := range fig.History {
		lines[h.Agreement] = h
	}
	if la, lb := lines[a.Hex()], lines[b.Hex()]; len(fig.History) != 2 || la.EnergyMWh != 1_000_000 || la.EnergyEstimated || la.Priced ||
		lb.EnergyMWh != 100_000 || !lb.EnergyEstimated {
		t.Fatalf("history without a price %+v", fig.History)
	}

	s, err := c.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.ElectricityPrice, s.TokenRate, s.Currency = "0.32", "0.80", "EUR"
	if _, err := c.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if fig, err = c.Wallet(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range fig.History {
		lines[h.Agreement] = h
	}
	// 1 kWh at 0.32 EUR = 0.32 EUR = 0.4 tokens; 0.1 kWh = 0.032 EUR = 0.04.
	la, lb := lines[a.Hex()], lines[b.Hex()]
	if !la.Priced || la.Electricity != 400_000 || la.Currency != "EUR" || la.ElectricityLocal != 320_000 {
		t.Fatalf("job a %+v", la)
	}
	if !lb.Priced || lb.Electricity != 40_000 || lb.ElectricityLocal != 32_000 || lb.Amount-lb.Electricity != 10_000 {
		t.Fatalf("job b %+v", lb)
	}
	// Today's total, job-x's 2 Wh included: 1.102 kWh = 0.35264 EUR = 0.4408 tokens.
	if e := fig.Energy; e.Currency != "EUR" || e.LocalToday != 352_640 || e.CostToday != 440_800 {
		t.Fatalf("today's electricity %+v", e)
	}
}
