//go:build linux

package node

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/promtest"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/sandbox"
)

// TestMetricsAfterJobs runs real jobs on a daemon whose GPU reads 97 %,
// 60 °C, 150 W: one that exits 0, one that exits 3, and one the owner's
// return freezes before it is stopped. GET /metrics, over the socket,
// then counts each outcome, the seconds run and the give-back, shows the
// GPU's reading in base units, the build and the Go runtime, and passes
// `promtool check metrics`.
func TestMetricsAfterJobs(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	probe := testenv.Workload(t, "probe")
	ctx := context.Background()
	dir := t.TempDir()
	ns := "spare-test-metrics-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sb, err := sandbox.New(ctx, sandbox.Config{Socket: sock, WorkDir: filepath.Join(dir, "jobs"), Namespace: ns, Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	img, err := sb.Import(ctx, probe, sandbox.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDaemon(DaemonConfig{DataDir: dir, Sandbox: sb, Settings: governor.Settings{IdleBefore: time.Second, SensorSilence: time.Hour}, Display: ":none",
		Version: "1.2.3-test", Log: quietLogger(), Telemetry: steadyGPU{}, PowercapRoot: t.TempDir()})
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- d.Serve(sctx) }()
	defer func() { cancel(); <-served }()
	c := localapi.NewClient(dir)
	idle := func(ms int64) {
		t.Helper()
		if err := c.ReportPresence(ctx, localapi.PresenceReport{IdleMS: ms, IdleKnown: true, Source: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, "the LocalAPI", 15*time.Second, func() error { _, err := c.Status(ctx); return err })
	idle(10 * 60 * 1000)
	testenv.WaitFor(t, "Available", 15*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })

	run := func(args ...string) JobResult {
		t.Helper()
		rj, err := d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: args}, []string{"GPU-steady"}, "")
		if err != nil {
			t.Fatal(err)
		}
		return <-rj.Done
	}
	if r := run("exit", "0"); r.Err != nil || r.Result.ExitCode != 0 {
		t.Fatalf("exit 0: %+v", r)
	}
	if r := run("exit", "3"); r.Err != nil || r.Result.ExitCode != 3 {
		t.Fatalf("exit 3: %+v", r)
	}
	rj, err := d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"sleep", "5m"}}, []string{"GPU-steady"}, "")
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "Running", 15*time.Second, func() bool { return d.Status().State == localapi.StateRunning })
	idle(0) // the owner is back: the job freezes (and thaws a second later, when they are idle again)
	testenv.WaitFor(t, "the give-back", 15*time.Second, func() error {
		n, sum, ok := promtest.Get(t, dir).Histogram("spare_give_back_seconds")
		if !ok || n != 1 || sum <= 0 || sum > 10 {
			return fmt.Errorf("give-back histogram: %d observations summing %v s (%v), want one of a few seconds at most", n, sum, ok)
		}
		return nil
	})
	if err := rj.Job.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if r := <-rj.Done; r.Result.Reason != sandbox.ReasonStopped {
		t.Fatalf("stopped job: %+v", r.Result)
	}

	s := promtest.Get(t, dir)
	s.Promtool(t)
	for _, w := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"spare_jobs_started_total", nil, 3},
		{"spare_jobs_finished_total", nil, 1},
		{"spare_jobs_failed_total", []string{"reason", "exit_code"}, 1},
		{"spare_jobs_failed_total", []string{"reason", "stopped"}, 1},
		{"spare_jobs_failed_total", []string{"reason", "timeout"}, 0},
		{"spare_gpu_utilization_ratio", []string{"uuid", "GPU-steady", "name", "RTX 4070"}, 0.97},
		{"spare_gpu_temperature_celsius", []string{"uuid", "GPU-steady"}, 60},
		{"spare_gpu_memory_total_bytes", []string{"uuid", "GPU-steady"}, 12 << 30},
		{"spare_gpu_power_watts", []string{"uuid", "GPU-steady"}, 150},
		{"spare_gpu_power_limit_watts", []string{"uuid", "GPU-steady"}, 200},
		{"spare_build_info", []string{"version", "1.2.3-test", "goversion", runtime.Version()}, 1},
	} {
		if got := s.Must(t, w.name, w.labels...); got != w.want {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.want)
		}
	}
	if secs := s.Must(t, "spare_job_seconds_total"); secs <= 0 || secs > 300 {
		t.Errorf("spare_job_seconds_total = %v for three short jobs", secs)
	}
	states := 0.0
	for _, st := range localapi.States {
		states += s.Must(t, "spare_state", "state", string(st))
	}
	if states != 1 {
		t.Errorf("spare_state is 1 for %v states, want one", states)
	}
	for _, f := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		s.Must(t, f)
	}
	if _, ok := s.Value("spare_wallet_earned_units"); ok {
		t.Error("a daemon without a wallet reports wallet figures")
	}
}
