//go:build linux

package governor

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/presence"
)

// freezeClock is a jobControl that reports when each freeze arrives.
type freezeClock struct {
	frozen chan time.Time
	mu     sync.Mutex
	thaws  int
}

func (f *freezeClock) Freeze(context.Context, string) error {
	f.frozen <- time.Now()
	return nil
}
func (f *freezeClock) Thaw(context.Context, string) error {
	f.mu.Lock()
	f.thaws++
	f.mu.Unlock()
	return nil
}
func (f *freezeClock) End(context.Context, string, Reason) error { return nil }

// startX11Governor runs a governor fed by the real X11 presence sensor on
// display through Watch with opts (PollOnly, Games), the display and the
// governor's poll filled in.
func startX11Governor(t testing.TB, display string, jobs jobControl, set Settings, opts presence.Options) (*Governor, *presence.X11) {
	t.Helper()
	x, err := presence.OpenX11(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	g := New(Config{Jobs: jobs, Settings: set, Logger: quietLogger()})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); g.Serve(ctx) }()
	go func() {
		defer wg.Done()
		opts.Display, opts.Interval, opts.Wake, opts.Logger = display, g.PollInterval, g.PollWake(), quietLogger()
		err := presence.Watch(ctx, opts, func(r presence.Report) { g.SetPresence(r) })
		if err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	if err := g.SetTelemetry(gpu.Snapshot{At: time.Now(), Devices: []gpu.Device{{UUID: "GPU-x", Name: "test GPU"}}}); err != nil {
		t.Fatal(err)
	}
	return g, x
}

// giveBackRig is a governor on the real X11 sensor whose fake sandbox
// timestamps each Freeze.
type giveBackRig struct {
	name    string
	display string
	g       *Governor
	x       *presence.X11
	jobs    *freezeClock
}

var giveBackSettings = Settings{IdleBefore: time.Second, Grace: 1500 * time.Millisecond, TelemetrySilence: time.Hour}

func newGiveBackRig(t testing.TB, display, name string, pollOnly bool) *giveBackRig {
	jobs := &freezeClock{frozen: make(chan time.Time, 16)}
	g, x := startX11Governor(t, display, jobs, giveBackSettings, presence.Options{PollOnly: pollOnly, Games: presence.Games{Disabled: true}})
	if err := g.JobStarted(Job{ID: "job-x", GPUs: []string{"GPU-x"}}); err != nil {
		t.Fatal(err)
	}
	return &giveBackRig{name: name, display: display, g: g, x: x, jobs: jobs}
}

// giveBack nudges the pointer trials times with xdotool on the rigs'
// display (they share one), each time once
// every rig runs its job and the owner has been away past IdleBefore, and
// returns each rig's input → Freeze latencies (the same nudges for all).
func giveBack(t testing.TB, trials int, rigs ...*giveBackRig) [][]time.Duration {
	t.Helper()
	lat := make([][]time.Duration, len(rigs))
	for i := range trials {
		testenv.WaitFor(t, "the jobs to run and the owner to be away", 10*time.Second, func() bool {
			d, err := rigs[0].x.Idle()
			if err != nil || d < giveBackSettings.IdleBefore+100*time.Millisecond {
				return false
			}
			for _, r := range rigs {
				if r.g.Status().Phase.State != Running {
					return false
				}
			}
			return true
		})
		for _, r := range rigs { // a freeze from the start-up or a previous touch
			for drained := false; !drained; {
				select {
				case <-r.jobs.frozen:
				default:
					drained = true
				}
			}
		}
		// A random delay puts the input at any phase of a polling sensor's
		// cycle, which the wait above would otherwise line up with.
		time.Sleep(rand.N(FastPoll))
		start := time.Now()
		testenv.Nudge(t, rigs[0].display, i)
		for k, r := range rigs {
			select {
			case at := <-r.jobs.frozen:
				lat[k] = append(lat[k], at.Sub(start))
			case <-time.After(5 * time.Second):
				t.Fatalf("%s, trial %d: no freeze within 5 s of input", r.name, i)
			}
		}
	}
	for _, r := range rigs {
		testenv.WaitFor(t, r.name+": the job to resume after the last trial", 10*time.Second, func() bool { return r.g.Status().Phase.State == Running })
	}
	return lat
}

// quantiles sorts lat and returns its median, p99 and maximum.
func quantiles(lat []time.Duration) (med, p99, maxi time.Duration) {
	slices.Sort(lat)
	return lat[len(lat)/2], lat[(len(lat)*99+99)/100-1], lat[len(lat)-1]
}

// TestX11GiveBackLatency measures input → freeze through the real X11
// sensor, the Watch loop and the governor: xdotool moves the mouse under
// Xvfb, a fake sandbox timestamps the Freeze call, and after a quiet grace
// the job resumes. SPARE_LATENCY_TRIALS sets the number of trials
// (default 10; BenchmarkGiveBack gives the figures).
func TestX11GiveBackLatency(t *testing.T) {
	rig := newGiveBackRig(t, testenv.PrivateDisplay(t), "events", false)
	lat := giveBack(t, testenv.Int("SPARE_LATENCY_TRIALS", 10), rig)[0]
	med, p99, maxi := quantiles(lat)
	t.Logf("give-back latency over %d trials (input via xdotool → Freeze called): median %v, p99 %v, max %v",
		len(lat), med.Round(time.Millisecond/10), p99.Round(time.Millisecond/10), maxi.Round(time.Millisecond/10))
	if p99 > 2*time.Second { // a sanity bound, not the 150 ms goal
		t.Errorf("p99 %v: the sensor is not reporting returning input", p99)
	}
}

// BenchmarkGiveBack compares give-back latency with the X11 idle alarm
// (events) and with the 50 ms poll used without it, side by side: two
// governors on the same Xvfb see the same xdotool nudges.
// SPARE_LATENCY_TRIALS trials per iteration (default 50).
func BenchmarkGiveBack(b *testing.B) {
	display := testenv.PrivateDisplay(b)
	rigs := []*giveBackRig{newGiveBackRig(b, display, "events", false), newGiveBackRig(b, display, "poll", true)}
	trials := testenv.Int("SPARE_LATENCY_TRIALS", 50)
	all := make([][]time.Duration, len(rigs))
	b.ResetTimer()
	for range b.N {
		for k, l := range giveBack(b, trials, rigs...) {
			all[k] = append(all[k], l...)
		}
	}
	b.StopTimer()
	for k, r := range rigs {
		med, p99, maxi := quantiles(all[k])
		b.Logf("%s: %d trials, median %v, p99 %v, max %v", r.name, len(all[k]), med.Round(time.Millisecond/10),
			p99.Round(time.Millisecond/10), maxi.Round(time.Millisecond/10))
		b.ReportMetric(float64(med)/1e6, r.name+"-median-ms")
		b.ReportMetric(float64(p99)/1e6, r.name+"-p99-ms")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSensorCPU reports the CPU time the X11 sensor, the Watch loop
// (with its heartbeat: fullscreen window, game scan of this machine's
// processes, power) and the governor use, as a percentage of one core,
// over SPARE_BENCH_CPU_SECONDS (default 60) per case: the owner away with
// no job and with a job running, each with the idle alarm (events) and
// with polling (poll). It is the whole process's CPU time (getrusage),
// Go's runtime included; nothing else runs in it meanwhile.
func BenchmarkSensorCPU(b *testing.B) {
	secs := testenv.Int("SPARE_BENCH_CPU_SECONDS", 60)
	for _, running := range []bool{false, true} {
		for _, pollOnly := range []bool{false, true} {
			name := map[bool]string{false: "idle", true: "job-running"}[running] + "/" + map[bool]string{false: "events", true: "poll"}[pollOnly]
			b.Run(name, func(b *testing.B) {
				jobs := &freezeClock{frozen: make(chan time.Time, 64)}
				g, _ := startX11Governor(b, testenv.PrivateDisplay(b), jobs, Settings{TelemetrySilence: time.Hour, AlwaysAvailable: true},
					presence.Options{PollOnly: pollOnly, OnPower: func(presence.Power) {}})
				if running {
					if err := g.JobStarted(Job{ID: "job-cpu", GPUs: []string{"GPU-x"}}); err != nil {
						b.Fatal(err)
					}
				}
				testenv.WaitFor(b, "the governor to settle", 5*time.Second, func() bool {
					return g.Status().Phase.State == map[bool]State{false: Available, true: Running}[running]
				})
				b.ResetTimer()
				var used, elapsed time.Duration
				for range b.N {
					before, wall := cpuTime(b), time.Now()
					time.Sleep(time.Duration(secs) * time.Second) // the measured period itself
					used += cpuTime(b) - before
					elapsed += time.Since(wall)
				}
				b.StopTimer()
				pct := 100 * used.Seconds() / elapsed.Seconds()
				b.Logf("%s: %v of CPU over %v = %.3f %% of one core (goal ≤ 0.2 %%)", name, used, elapsed.Round(time.Millisecond), pct)
				b.ReportMetric(pct, "%core")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
