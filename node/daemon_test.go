//go:build linux

package node

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/sandbox"
)

// testDaemon runs a daemon on the test containerd until the test ends.
func testDaemon(t *testing.T, set governor.Settings, display string) (*Daemon, *localapi.Client, sandbox.Image) {
	t.Helper()
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	probe := testenv.Workload(t, "probe")
	dir := t.TempDir()
	ns := "spare-test-node-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sb, err := sandbox.New(context.Background(), sandbox.Config{Socket: sock, WorkDir: filepath.Join(dir, "jobs"), Namespace: ns, Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	img, err := sb.Import(context.Background(), probe, sandbox.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDaemon(DaemonConfig{DataDir: dir, Sandbox: sb, Settings: set, Display: display, Version: "test", Log: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		start := time.Now()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("stopping the daemon took %v: running jobs were not ended", d)
		}
		if _, err := os.Stat(localapi.SocketPath(dir)); !os.IsNotExist(err) {
			t.Errorf("socket left after stop: %v", err)
		}
		sb.Close()
	})
	c := localapi.NewClient(dir)
	testenv.WaitFor(t, "the LocalAPI", 10*time.Second, func() bool { _, err := c.Status(context.Background()); return err == nil })
	return d, c, img
}

func TestLocalAPI(t *testing.T) {
	_, c, _ := testDaemon(t, governor.Settings{AlwaysAvailable: true}, "")
	ctx := context.Background()
	testenv.WaitFor(t, "Available", 10*time.Second, func() bool { s, _ := c.Status(ctx); return s.State == localapi.StateAvailable })

	var mu sync.Mutex
	var seen []localapi.State
	ectx, ecancel := context.WithCancel(ctx)
	defer ecancel()
	go c.Events(ectx, func(s localapi.Status) { mu.Lock(); seen = append(seen, s.State); mu.Unlock() })
	// The stream starts with the current status; changes before it was
	// open would not be in it.
	testenv.WaitFor(t, "the event stream to open", 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) > 0 })

	s, err := c.Pause(ctx, localapi.PauseRequest{For: "1h"})
	if err != nil || s.State != localapi.StatePaused || s.Until.Before(time.Now().Add(59*time.Minute)) || !strings.Contains(s.Sentence, "Paused until") {
		t.Fatalf("pause: %+v, %v", s, err)
	}
	if s, err = c.Resume(ctx); err != nil || s.State != localapi.StateAvailable {
		t.Fatalf("resume: %+v, %v", s, err)
	}
	if s, err = c.Pause(ctx, localapi.PauseRequest{}); err != nil || s.State != localapi.StatePaused || !s.Until.IsZero() {
		t.Fatalf("pause until resumed: %+v, %v", s, err)
	}
	c.Resume(ctx)
	testenv.WaitFor(t, "the event stream to see the changes", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(seen, localapi.StatePaused) && seen[len(seen)-1] == localapi.StateAvailable
	})

	for _, bad := range []localapi.PauseRequest{{For: "soon"}, {For: "-1h"}, {Until: "friday"}, {For: "1h", Until: "tomorrow"}} {
		_, err := c.Pause(ctx, bad)
		var e *localapi.Error
		if err == nil || !asError(err, &e) || e.Code != localapi.CodeBadRequest {
			t.Errorf("pause %+v: %v, want a bad_request error", bad, err)
		}
	}
	if err := c.ReportPresence(ctx, localapi.PresenceReport{IdleMS: -5}); err == nil {
		t.Error("a negative idle time was accepted")
	}
	if err := c.ReportPresence(ctx, localapi.PresenceReport{IdleMS: 1000, IdleKnown: true, Source: "test"}); err != nil {
		t.Errorf("presence report: %v", err)
	}
}

func asError(err error, target **localapi.Error) bool {
	e, ok := err.(*localapi.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestMetrics(t *testing.T) {
	d, _, _ := testDaemon(t, governor.Settings{AlwaysAvailable: true}, "")
	srv := d.handler()
	testenv.WaitFor(t, "Available", 10*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })
	req, _ := http.NewRequest("GET", "/metrics", nil)
	rec := &respRecorder{header: http.Header{}}
	srv.ServeHTTP(rec, req)
	if !strings.Contains(rec.body.String(), `spare_state{state="Available"} 1`) || !strings.Contains(rec.body.String(), "spare_devices_usable 1") {
		t.Errorf("metrics:\n%s", rec.body.String())
	}
}

type respRecorder struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func (r *respRecorder) Header() http.Header         { return r.header }
func (r *respRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *respRecorder) WriteHeader(c int)           { r.code = c }

func TestDaemonJobAndDrain(t *testing.T) {
	d, c, img := testDaemon(t, governor.Settings{AlwaysAvailable: true}, "")
	ctx := context.Background()
	testenv.WaitFor(t, "Available", 10*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })
	out := t.TempDir()
	rj, err := d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"write", "/output/done"}}, []string{CPUDeviceUUID}, out)
	if err != nil {
		t.Fatal(err)
	}
	r := <-rj.Done
	if r.Err != nil || r.Result.ExitCode != 0 || len(r.Outputs) != 1 || r.Outputs[0].Path != "done" {
		t.Fatalf("job result %+v", r)
	}
	testenv.WaitFor(t, "Available after the job", 30*time.Second, func() bool { s, _ := c.Status(ctx); return s.State == localapi.StateAvailable })
	// A job still running when the daemon stops is ended (drain).
	rj, err = d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"sleep", "5m"}}, []string{CPUDeviceUUID}, "")
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "Running", 30*time.Second, func() bool { return d.Status().State == localapi.StateRunning && d.Status().Job == rj.Job.ID() })
	_ = rj // the test's cleanup stops the daemon, which must end this job and return
}

// TestX11GiveBackRealJob measures give-back end to end: xdotool moves the
// mouse under Xvfb; the daemon's X11 sensor reports it; the governor
// freezes a real job in the real sandbox; the latency is input → the
// containerd task is paused. After a quiet grace the job resumes and its
// counter advances again. SPARE_LATENCY_TRIALS sets the trials (default
// 10; the closing note's figures use 50).
func TestX11GiveBackRealJob(t *testing.T) {
	display := testenv.PrivateDisplay(t)
	d, _, img := testDaemon(t, governor.Settings{IdleBefore: time.Second, Grace: 1500 * time.Millisecond}, display)
	ctx := context.Background()
	testenv.WaitFor(t, "the owner to be away (Available)", 15*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })
	pr, pw := io.Pipe()
	rj, err := d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"counter"}, Stdout: pw}, []string{CPUDeviceUUID}, "")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	lines := 0
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			lines++
			mu.Unlock()
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return lines }

	trials := testenv.Int("SPARE_LATENCY_TRIALS", 10)
	var lat []time.Duration
	for i := range trials {
		testenv.WaitFor(t, "the job to run unfrozen", 15*time.Second, func() bool {
			f, err := rj.Job.Frozen(ctx)
			return err == nil && !f && d.Status().State == localapi.StateRunning
		})
		before := count()
		testenv.WaitFor(t, "the counter to advance", 30*time.Second, func() bool { return count() > before })
		// Every nudge must freeze the job: a report the sensor held back
		// or dropped is a bug (see presence.TestWatchNeverDropsInput).
		start := time.Now()
		testenv.Nudge(t, display, i)
		var l time.Duration
		for l == 0 {
			f, err := rj.Job.Frozen(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case f:
				l = time.Since(start)
			case time.Since(start) > 5*time.Second:
				st := d.gov.Status()
				t.Fatalf("trial %d: the job was not frozen within 5 s of the nudge; governor %s: %s", i, st.Phase, st.Phase.Sentence(time.Now()))
			default:
				time.Sleep(time.Millisecond) // polling the task state; the measurement's resolution
			}
		}
		lat = append(lat, l)
	}
	testenv.WaitFor(t, "the job to resume after the owner left", 15*time.Second, func() bool {
		f, err := rj.Job.Frozen(ctx)
		return err == nil && !f
	})
	before := count()
	testenv.WaitFor(t, "the counter to advance after the resume", 30*time.Second, func() bool { return count() > before })
	slices.Sort(lat)
	med, p99 := lat[len(lat)/2], lat[(len(lat)*99+99)/100-1]
	t.Logf("give-back with a real sandbox job over %d trials (xdotool input → task frozen): median %v, p99 %v, max %v",
		len(lat), med.Round(time.Millisecond/10), p99.Round(time.Millisecond/10), lat[len(lat)-1].Round(time.Millisecond/10))
	if p99 > 2*time.Second { // a sanity bound, not the 150 ms goal
		t.Errorf("p99 %v: returning input does not freeze the job", p99)
	}
	pw.Close()
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
