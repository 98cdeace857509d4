package node

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sparegpu/spare/gpu"
)

// TestEnergyFromRecordedTrace replays a recorded RTX 4070 (one reading
// every 10 s; the job appears at 330 s and the power rises with it) and
// adds up the job's energy from its readings.
func TestEnergyFromRecordedTrace(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rp, err := gpu.LoadReplay(filepath.Join("..", "gpu", "testdata", "one-gpu.jsonl"), start)
	if err != nil {
		t.Fatal(err)
	}
	var m energyMeter
	var want float64 // mJ, by the trapezoid rule over the job's intervals
	var prev *gpu.Snapshot
	for _, s := range rp.Snapshots() {
		holders := map[string]string{}
		if s.At.Sub(start) >= 330*time.Second {
			holders["GPU-cccc"] = "job-1"
			if prev != nil {
				p := float64(prev.Devices[0].PowerMW+s.Devices[0].PowerMW) / 2
				want += p * s.At.Sub(prev.At).Seconds()
			}
		}
		m.sample(energyReading{At: s.At, GPUs: s.Devices, Holders: holders})
		prev = &s
	}
	e, ok := m.energy("job-1")
	if !ok || e.Estimated {
		t.Fatalf("energy %+v, %v: want a measured figure", e, ok)
	}
	if diff := float64(e.MilliJoules) - want; diff > 1 || diff < -1 {
		t.Fatalf("the job used %d mJ, want %.0f", e.MilliJoules, want)
	}
	t.Logf("the replayed RTX 4070 trace's job used %.2f Wh over %v", float64(e.MilliJoules)/3.6e6,
		rp.Snapshots()[len(rp.Snapshots())-1].At.Sub(start.Add(330*time.Second)))
	if _, ok := m.energy("job-2"); ok {
		t.Fatal("energy for a job that never ran")
	}
}

// TestEnergyEstimate: a GPU without a power reading is estimated from its
// rated power at its utilisation, and says so; 200 W at 50 % for 90 s is
// 2.5 Wh. A gap in the readings counts at most maxEnergyGap.
func TestEnergyEstimate(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	dev := []gpu.Device{{UUID: "GPU-a", PowerLimitMW: 200_000, Utilization: 50}}
	hold := map[string]string{"GPU-a": "job-1"}
	var m energyMeter
	for i := 0; i <= 9; i++ {
		m.sample(energyReading{At: at.Add(time.Duration(i) * 10 * time.Second), GPUs: dev, Holders: hold})
	}
	e, _ := m.energy("job-1")
	if !e.Estimated || e.MilliWattHours() != 2500 {
		t.Fatalf("estimate %+v (%d mWh), want 2500 mWh marked estimated", e, e.MilliWattHours())
	}
	m.sample(energyReading{At: at.Add(time.Hour), GPUs: dev, Holders: hold})
	if e2, _ := m.energy("job-1"); e2.MilliJoules-e.MilliJoules != 100_000*maxEnergyGap.Milliseconds()/1000 {
		t.Fatalf("an hour's gap added %d mJ, want %v at 100 W", e2.MilliJoules-e.MilliJoules, maxEnergyGap)
	}
	m.forget("job-1")
	if _, ok := m.energy("job-1"); ok {
		t.Fatal("an ended job's energy kept")
	}
}

// TestRAPL reads a fake powercap tree: two packages (their subzones are
// parts of them and not counted again), one of which wraps; a CPU-only
// job is given the packages' rise as measured energy. Without readable
// counters the CPU is estimated.
func TestRAPL(t *testing.T) {
	root := t.TempDir()
	write := func(zone, file string, v uint64) {
		t.Helper()
		dir := filepath.Join(root, zone)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatUint(v, 10)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	counters := func(p0, p1, core uint64) {
		write("intel-rapl:0", "energy_uj", p0)
		write("intel-rapl:0", "max_energy_range_uj", 262_143_328_850)
		write("intel-rapl:1", "energy_uj", p1)
		write("intel-rapl:1", "max_energy_range_uj", 4_000_000)
		write("intel-rapl:0:0", "energy_uj", core)
		write("intel-rapl:0:0", "max_energy_range_uj", 262_143_328_850)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cpu := cpuOnlySnapshot(at).Devices
	hold := map[string]string{CPUDeviceUUID: "job-1"}
	var m energyMeter
	counters(1_000_000, 3_000_000, 900_000)
	m.sample(energyReading{At: at, GPUs: cpu, CPU: readRAPL(root), Holders: hold})
	// 10 s later: package 0 used 400 J, package 1 wrapped after 1.5 J
	// more; the core subzone's rise is inside package 0's.
	counters(401_000_000, 500_000, 300_900_000)
	m.sample(energyReading{At: at.Add(10 * time.Second), GPUs: cpu, CPU: readRAPL(root), Holders: hold})
	e, _ := m.energy("job-1")
	if e.Estimated || e.MilliJoules != 401_500 {
		t.Fatalf("CPU energy %+v, want 401500 mJ measured", e)
	}
	if got := readRAPL(t.TempDir()); got != nil {
		t.Fatalf("RAPL counters from an empty tree: %v", got)
	}
	var est energyMeter
	est.sample(energyReading{At: at, GPUs: cpu, Holders: hold})
	est.sample(energyReading{At: at.Add(10 * time.Second), GPUs: cpu, Holders: hold})
	if e, _ := est.energy("job-1"); !e.Estimated || e.MilliJoules != cpuRatedMW*10 {
		t.Fatalf("CPU without counters: %+v, want %d mJ estimated", e, cpuRatedMW*10)
	}
}
