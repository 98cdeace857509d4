//go:build linux

package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/sandbox"
	"github.com/sparegpu/spare/settings"
)

// steadyGPU reads one GPU drawing a steady 150 W, stamped when read (a
// recorded reading stands in for NVML, which has no GPU here).
type steadyGPU struct{}

func (steadyGPU) Snapshot(ctx context.Context) (gpu.Snapshot, error) {
	return gpu.Snapshot{At: time.Now(), Devices: []gpu.Device{{UUID: "GPU-steady", Name: "RTX 4070", MemoryTotal: 12 << 30,
		PowerMW: 150_000, PowerLimitMW: 200_000, Utilization: 97, TemperatureC: 60}}}, ctx.Err()
}

// TestJobEnergy runs a real job on the daemon while its GPU draws 150 W:
// the Job route shows the energy used so far, measured; once the job
// ends its energy is kept in DATA/energy.jsonl (0600) and counts in the
// wallet's electricity figures.
func TestJobEnergy(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	probe := testenv.Workload(t, "probe")
	ctx := context.Background()
	dir := t.TempDir()
	ns := "spare-test-energy-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sb, err := sandbox.New(ctx, sandbox.Config{Socket: sock, WorkDir: filepath.Join(dir, "jobs"), Namespace: ns, Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	img, err := sb.Import(ctx, probe, sandbox.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDaemon(DaemonConfig{DataDir: dir, Sandbox: sb, Settings: governor.Settings{AlwaysAvailable: true}, Display: ":none",
		Version: "test", Log: quietLogger(), Telemetry: steadyGPU{}, PowercapRoot: t.TempDir()})
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- d.Serve(sctx) }()
	defer func() { cancel(); <-served }()
	c := localapi.NewClient(dir)
	testenv.WaitFor(t, "Available", 15*time.Second, func() bool { s, _ := c.Status(ctx); return s.State == localapi.StateAvailable })

	rj, err := d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"sleep", "5m"}}, []string{"GPU-steady"}, "")
	if err != nil {
		t.Fatal(err)
	}
	d.TagJobEnergy(rj.Job.ID(), "0xfeed") // as the provider names a paid run
	var used int64
	testenv.WaitFor(t, "the job's energy to show", 15*time.Second, func() error {
		j, err := c.Job(ctx)
		if err != nil || j == nil || j.EnergyMWh == 0 {
			return fmt.Errorf("job %+v, %v", j, err)
		}
		if j.EnergyEstimated {
			t.Fatalf("a GPU with a power reading gave an estimate: %+v", j)
		}
		used = j.EnergyMWh
		return nil
	})
	if err := rj.Job.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	<-rj.Done
	fi, err := os.Stat(filepath.Join(dir, EnergyLogName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("energy log: %v, %v; want a 0600 file", fi, err)
	}
	byJob, err := d.energyLog.byWalletJob(time.Now())
	if err != nil || byJob["0xfeed"].MilliWattHours() < used || byJob["0xfeed"].Estimated {
		t.Fatalf("the run's energy under its wallet name: %+v, %v", byJob, err)
	}
	e := d.energyTotals(time.Now())
	if e.TodayMWh < used || e.WeekMWh != e.TodayMWh || e.MonthMWh != e.TodayMWh || e.Estimated {
		t.Fatalf("electricity figures %+v after a job that used at least %d mWh", e, used)
	}
	t.Logf("a job on a GPU drawing 150 W: %d mWh while it ran, %d mWh kept at its end", used, e.TodayMWh)

	// At the owner's price, through the owner's rate for the token.
	s, err := c.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.ElectricityPrice, s.Currency, s.TokenRate = "0.32", "EUR", "0.92"
	if s, err = c.UpdateSettings(ctx, s); err != nil || s.ElectricityPrice != "0.32" {
		t.Fatalf("settings %+v, %v", s, err)
	}
	e = d.energyTotals(time.Now())
	want, _ := settings.ElectricityCost(s, e.TodayMWh)
	if !e.Priced || want == 0 || e.CostToday != want || e.CostMonth != want {
		t.Fatalf("electricity figures %+v, want a cost of %v", e, want)
	}
}

// TestEnergyLogTotals: the figures count by UTC day like the wallet's,
// include the running jobs, and skip what does not read (a torn line,
// a negative figure) rather than hide the rest.
func TestEnergyLogTotals(t *testing.T) {
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	l := newEnergyLog(t.TempDir())
	for _, r := range []energyRecord{
		{Job: "a", Ended: now.Add(-time.Hour), MJ: 3_600_000},                    // today: 1 Wh
		{Job: "b", Ended: now.AddDate(0, 0, -3), MJ: 7_200_000, Estimated: true}, // this week: 2 Wh
		{Job: "c", Ended: now.AddDate(0, 0, -20), MJ: 36_000_000},                // this month: 10 Wh
		{Job: "d", Ended: now.AddDate(0, 0, -40), MJ: 360_000_000},               // too old
		{Job: "e", Ended: now, MJ: -5_000_000},                                   // nonsense
	} {
		if err := l.add(r); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"job":"torn","ended":"2026-05-10T11:00:00Z","mj":99`)
	f.Close()
	e, err := l.totals(now, []JobEnergy{{MilliJoules: 1_800_000}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (localapi.Energy{TodayMWh: 1500, WeekMWh: 3500, MonthMWh: 13500, Estimated: true}); e != want {
		t.Fatalf("totals %+v, want %+v", e, want)
	}
}
