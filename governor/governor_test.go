package governor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

// recorder is a fake sandbox and market: it records every call.
type recorder struct {
	mu        sync.Mutex
	calls     []string
	freezeErr error
}

func (r *recorder) add(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
	return nil
}

func (r *recorder) Freeze(_ context.Context, id string) error {
	r.add("freeze " + id)
	return r.freezeErr
}
func (r *recorder) Thaw(_ context.Context, id string) error { return r.add("thaw " + id) }
func (r *recorder) End(_ context.Context, id string, why Reason) error {
	return r.add(fmt.Sprintf("end %s %s", id, why.Code))
}
func (r *recorder) Publish(_ context.Context, gpus []string) error {
	return r.add(fmt.Sprintf("publish %v", gpus))
}
func (r *recorder) Withdraw(context.Context) error { return r.add("withdraw") }
func (r *recorder) Notify(_ context.Context, job string, n Notice) error {
	return r.add(fmt.Sprintf("notify %s %s resumed=%v", job, n.Reason.Code, n.Resumed))
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

var (
	_ jobControl      = (*recorder)(nil)
	_ adPublisher     = (*recorder)(nil)
	_ preemptNotifier = (*recorder)(nil)
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestServe drives the real event loop inside a synctest bubble: time is
// fake, so the 10 s grace passes instantly and deterministically, and
// synctest.Wait returns once the governor has handled every event.
func TestServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		var changes []string
		g := New(Config{Jobs: rec, Ads: rec, Notifier: rec, Logger: quietLogger(),
			OnChange: func(s Status) { changes = append(changes, s.Phase.String()) }})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- g.Serve(ctx) }()

		dev := gpu.Device{UUID: "GPU-1", Name: "RTX 4090", TemperatureC: 40}
		must(t, g.SetTelemetry(gpu.Snapshot{At: time.Now(), Devices: []gpu.Device{dev}}))
		must(t, g.SetPresence(presence.Report{At: time.Now(), Idle: 4 * time.Minute, IdleKnown: true}))
		synctest.Wait()
		if st := g.Status().Phase; st.State != Waiting || st.Reason.Code != localapi.ReasonActive {
			t.Fatalf("state = %s, want Waiting(active)", st)
		}
		if g.PollInterval() != SlowPoll {
			t.Error("poll should be slow while nothing runs")
		}

		// One minute later the owner has been idle five: the ad goes out.
		time.Sleep(time.Minute) // advances the bubble's fake clock; the governor's timer fires
		synctest.Wait()
		must(t, g.SetTelemetry(gpu.Snapshot{At: time.Now(), Devices: []gpu.Device{dev}}))
		must(t, g.SetPresence(presence.Report{At: time.Now(), Idle: 5 * time.Minute, IdleKnown: true}))
		synctest.Wait()
		if got := rec.take(); !slices.Equal(got, []string{"publish [GPU-1]"}) {
			t.Fatalf("calls = %q", got)
		}

		must(t, g.JobStarted(Job{ID: "job-1", GPUs: []string{"GPU-1"}}))
		synctest.Wait()
		if st := g.Status().Phase; st.State != Running || g.PollInterval() != FastPoll {
			t.Fatalf("state = %s, poll %v", st, g.PollInterval())
		}

		// The owner returns and keeps using the computer.
		must(t, g.SetPresence(presence.Report{At: time.Now(), Idle: 10 * time.Millisecond, IdleKnown: true}))
		synctest.Wait()
		if st := g.Status().Phase; st.State != Frozen {
			t.Fatalf("state = %s, want Frozen", st)
		}
		time.Sleep(3 * time.Second)
		must(t, g.SetPresence(presence.Report{At: time.Now(), Idle: 20 * time.Millisecond, IdleKnown: true}))
		time.Sleep(7 * time.Second)
		synctest.Wait()
		must(t, g.JobEnded("job-1"))
		synctest.Wait()
		want := []string{"withdraw", "freeze job-1", "notify job-1 active resumed=false", "end job-1 active", "notify job-1 active resumed=false"}
		if got := rec.take(); !slices.Equal(got, want) {
			t.Fatalf("calls =\n %q\nwant\n %q", got, want)
		}
		if st := g.Status().Phase; st.State != Waiting {
			t.Fatalf("state after end = %s", st)
		}

		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Serve = %v", err)
		}
		if err := g.SetPresence(presence.Report{}); !errors.Is(err, ErrStopped) {
			t.Errorf("input after stop: %v", err)
		}
		// Silent at first (no report yet) and again after the first report
		// aged 30 s: a silent sensor means the owner is present.
		wantChanges := []string{"Waiting(silent)", "Waiting(active)", "Waiting(silent)", "Available", "Running(job-1)", "Frozen(job-1, since", "Waiting(active)", "Draining"}
		if len(changes) != len(wantChanges) {
			t.Fatalf("changes = %q", changes)
		}
		for i := range changes {
			if !strings.HasPrefix(changes[i], wantChanges[i]) {
				t.Errorf("change %d = %q, want %q", i, changes[i], wantChanges[i])
			}
		}
	})
}

// TestServeDrains: stopping the node ends running jobs before Serve returns.
func TestServeDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := New(Config{Jobs: rec, Ads: rec, Logger: quietLogger(), Settings: Settings{AlwaysAvailable: true}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- g.Serve(ctx) }()
		must(t, g.SetTelemetry(gpu.Snapshot{At: time.Now(), Devices: []gpu.Device{{UUID: "GPU-1"}}}))
		must(t, g.JobStarted(Job{ID: "job-9", GPUs: []string{"GPU-1"}}))
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		got := rec.take()
		if !slices.Contains(got, "end job-9 draining") {
			t.Fatalf("calls = %q, want the job ended", got)
		}
	})
}

// TestServeFreezeFailureEnds: if the freezer fails, the job is ended.
func TestServeFreezeFailureEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{freezeErr: errors.New("cgroup gone")}
		g := New(Config{Jobs: rec, Logger: quietLogger()})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go g.Serve(ctx)
		must(t, g.SetTelemetry(gpu.Snapshot{At: time.Now(), Devices: []gpu.Device{{UUID: "GPU-1"}}}))
		must(t, g.SetPresence(presence.Report{At: time.Now(), Idle: time.Hour, IdleKnown: true}))
		must(t, g.JobStarted(Job{ID: "job-2", GPUs: []string{"GPU-1"}}))
		synctest.Wait()
		must(t, g.SetPresence(presence.Report{At: time.Now(), IdleKnown: true}))
		synctest.Wait()
		got := rec.take()
		if !slices.Equal(got, []string{"freeze job-2", "end job-2 active"}) {
			t.Fatalf("calls = %q", got)
		}
	})
}
