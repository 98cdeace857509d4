package node

import (
	"context"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// ratedGPU reads one GPU idling at 20 W with a 350 W power limit, stamped
// when read (a recorded reading standing in for NVML).
type ratedGPU struct{}

func (ratedGPU) Snapshot(ctx context.Context) (gpu.Snapshot, error) {
	return gpu.Snapshot{At: time.Now(), Devices: []gpu.Device{{UUID: "GPU-rated", Name: "RTX 3080", MemoryTotal: 10 << 30,
		PowerMW: 20_000, PowerLimitMW: 350_000, TemperatureC: 40}}}, ctx.Err()
}

func TestFloorPower(t *testing.T) {
	tests := []struct {
		name string
		snap gpu.Snapshot
		gpu  int64
		est  bool
	}{
		{name: "CPU only", snap: cpuOnlySnapshot(time.Now()), est: true},
		{name: "the largest limit", snap: gpu.Snapshot{Devices: []gpu.Device{{UUID: "a", PowerLimitMW: 200_000}, {UUID: "b", PowerLimitMW: 350_000, PowerMW: 30_000}}}, gpu: 350_000},
		{name: "drawing over its limit", snap: gpu.Snapshot{Devices: []gpu.Device{{UUID: "a", PowerLimitMW: 200_000, PowerMW: 210_000}}}, gpu: 210_000},
		{name: "no reading: the rating, estimated", snap: gpu.Snapshot{Devices: []gpu.Device{{UUID: "a"}}}, gpu: gpuRatedMW, est: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := floorPower(tc.snap, 8)
			if p.GPUMilliWatts != tc.gpu || p.CoreMilliWatts != cpuRatedMW/8 || p.Estimated != tc.est {
				t.Fatalf("floorPower = %+v; want GPU %d mW, core %d mW, estimated %v", p, tc.gpu, cpuRatedMW/8, tc.est)
			}
		})
	}
}

// TestCostFloorSettings: "never work at a loss" on, with electricity at
// 0.32 a kWh and the token worth 0.92: the GPU's 350 W limit gives a
// floor of 34 units a GPU-second (0.1224 an hour) that the market gets
// and GET /v1/settings shows; off again, the floor goes.
func TestCostFloorSettings(t *testing.T) {
	terms := &termsRecorder{}
	d, c, _ := stoppableDaemon(t, t.TempDir(), DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Market: terms, Telemetry: ratedGPU{}})
	ctx := context.Background()
	testenv.WaitFor(t, "the GPU's power read", 10*time.Second, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.power.GPUMilliWatts == 350_000
	})
	s, err := c.Settings(ctx)
	if err != nil || s.CostFloor != nil || terms.costFloor() != (market.Price{}) {
		t.Fatalf("a floor while the option is off: %+v %v %+v", s.CostFloor, err, terms.costFloor())
	}
	s.NoLoss = true
	_, err = c.UpdateSettings(ctx, s)
	if e := apiError(t, err); e.Field != "no_loss" {
		t.Fatalf("no_loss without a price: %+v", e)
	}
	s.ElectricityPrice, s.TokenRate, s.Currency = "0.32", "0.92", "EUR"
	got, err := c.UpdateSettings(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	want := localapi.CostFloor{PerGPUHour: 34 * 3600, PerCoreHour: got.CostFloor.PerCoreHour, GPUMilliWatts: 350_000, CoreMilliWatts: got.CostFloor.CoreMilliWatts}
	if got.CostFloor == nil || *got.CostFloor != want || got.CostFloor.PerCoreHour <= 0 {
		t.Fatalf("floor shown %+v; want %+v", got.CostFloor, want)
	}
	if f := terms.costFloor(); f.PerGPUSecond != 34 || f.PerCPUSecond == 0 {
		t.Fatalf("the market's floor %+v; want 34 a GPU-second", f)
	}
	again, err := c.Settings(ctx)
	if err != nil || again.CostFloor == nil || *again.CostFloor != want {
		t.Fatalf("GET shows %+v, %v", again.CostFloor, err)
	}
	s.NoLoss = false
	if got, err = c.UpdateSettings(ctx, s); err != nil || got.CostFloor != nil || terms.costFloor() != (market.Price{}) {
		t.Fatalf("off again: %+v %v %+v", got.CostFloor, err, terms.costFloor())
	}
}
