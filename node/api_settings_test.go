//go:build linux

package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/settings"
)

// termsRecorder is a market that records the terms the daemon applies
// and does nothing else.
type termsRecorder struct {
	mu    sync.Mutex
	price *market.Price
	kinds []market.Kind
	calls int
	floor market.Price
}

func (r *termsRecorder) SetCostFloor(f market.Price) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.floor = f
}

func (r *termsRecorder) costFloor() market.Price {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.floor
}

func (r *termsRecorder) SetTerms(p *market.Price, k []market.Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.price, r.kinds, r.calls = p, k, r.calls+1
}

func (*termsRecorder) Publish(context.Context, []string) error               { return nil }
func (*termsRecorder) Withdraw(context.Context) error                        { return nil }
func (*termsRecorder) Notify(context.Context, string, governor.Notice) error { return nil }
func (*termsRecorder) Describe(*localapi.Status)                             {}
func (*termsRecorder) DescribeJob(context.Context, string) (localapi.Job, bool) {
	return localapi.Job{}, false
}

func (r *termsRecorder) get() (*market.Price, []market.Kind, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.price, r.kinds, r.calls
}

func TestSettingsAPI(t *testing.T) {
	dir := t.TempDir()
	terms := &termsRecorder{}
	d, c, stop := stoppableDaemon(t, dir, DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true, IdleBefore: 3 * time.Minute, MaxTempC: 80}, Market: terms})
	ctx := context.Background()
	testenv.WaitFor(t, "Available", 10*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })

	// With nothing saved, the command line's settings are shown.
	s, err := c.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := localapi.Settings{IdleMinutes: 3, MaxTempC: 80, Schedule: "always", Workloads: []string{"inference", "render"}}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Fatalf("settings %+v, want %+v", s, want)
	}
	if p, k, _ := terms.get(); p != nil || k != nil {
		t.Fatalf("terms at start: %v %v", p, k)
	}

	bad := []struct {
		name  string
		edit  func(*localapi.Settings)
		field string
		in    []string
	}{
		{"idle", func(s *localapi.Settings) { s.IdleMinutes = 0 }, "idle_minutes", []string{"outside 1–240"}},
		{"temp", func(s *localapi.Settings) { s.MaxTempC = 120 }, "max_temp_c", []string{"outside 50–95"}},
		{"schedule", func(s *localapi.Settings) { s.Schedule = "nights" }, "schedule", []string{"22:00-07:00"}},
		{"price", func(s *localapi.Settings) { s.PriceFloor = "0.1234567" }, "price_floor", []string{"per hour"}},
		{"kind", func(s *localapi.Settings) { s.Workloads = []string{"mining"} }, "workloads", []string{`"mining"`}},
		{"no kind", func(s *localapi.Settings) { s.Workloads = nil }, "workloads", []string{"at least one"}},
		{"several", func(s *localapi.Settings) { s.IdleMinutes, s.Schedule = 999, "25:00-01:00" }, "idle_minutes",
			[]string{"idle_minutes: 999", "schedule: \"25:00-01:00\""}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			in := want
			tc.edit(&in)
			_, err := c.UpdateSettings(ctx, in)
			e := apiError(t, err)
			if e.Code != localapi.CodeInvalid || e.Field != tc.field {
				t.Fatalf("got %+v, want field %s", e, tc.field)
			}
			for _, w := range tc.in {
				if !strings.Contains(e.Message, w) {
					t.Fatalf("message %q lacks %q", e.Message, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, settings.File)); !os.IsNotExist(err) {
		t.Fatalf("refused settings were saved: %v", err)
	}

	events := make(chan localapi.Status, 64)
	ectx, ecancel := context.WithCancel(ctx)
	defer ecancel()
	go func() { _ = c.Events(ectx, func(s localapi.Status) { events <- s }) }()
	<-events

	// A schedule window that starts in six hours: the governor stops
	// offering work at once.
	from := time.Now().Add(6 * time.Hour)
	window := from.Format("15:04") + "-" + from.Add(time.Hour).Format("15:04")
	next := localapi.Settings{IdleMinutes: 7, RunOnBattery: true, MaxTempC: 75, Schedule: window, PriceFloor: "0.36",
		Workloads: []string{"render", "render"}}
	got, err := c.UpdateSettings(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	next.Workloads = []string{"render"}
	if fmt.Sprint(got) != fmt.Sprint(next) {
		t.Fatalf("in force %+v, want %+v", got, next)
	}
	waitEvent(t, events, localapi.EventSettings)
	testenv.WaitFor(t, "Waiting for the schedule", 5*time.Second, func() bool {
		st := d.Status()
		return st.State == localapi.StateWaiting && st.Reason == localapi.ReasonSchedule
	})
	if p, k, _ := terms.get(); p == nil || p.PerGPUSecond != 100 || p.PerCPUSecond != 100 || !slices.Equal(k, []market.Kind{market.KindRender}) {
		t.Fatalf("terms %v %v: want 0.36 per hour = 100 units per second, render only", p, k)
	}
	fi, err := os.Stat(filepath.Join(dir, settings.File))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings file: %v %v", fi, err)
	}
	stop()

	// A new daemon reads them back; a command-line flag holds over the
	// saved value for its run.
	terms2 := &termsRecorder{}
	d, c, _ = stoppableDaemon(t, dir, DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true, IdleBefore: 10 * time.Second},
		Market: terms2, Pinned: []string{settings.FieldIdleMinutes}})
	s, err = c.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next.IdleMinutes, next.CommandLine = 1, []string{settings.FieldIdleMinutes}
	if fmt.Sprint(s) != fmt.Sprint(next) {
		t.Fatalf("after restart %+v, want %+v", s, next)
	}
	if p, _, n := terms2.get(); n != 1 || p == nil || p.PerGPUSecond != 100 {
		t.Fatalf("terms after restart: %v (%d calls)", p, n)
	}
	testenv.WaitFor(t, "Waiting for the schedule", 5*time.Second, func() bool { return d.Status().Reason == localapi.ReasonSchedule })

	// Back to always: work is offered again.
	next.Schedule, next.CommandLine = "always", nil
	if _, err := c.UpdateSettings(ctx, next); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "Available", 5*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })
	var saved localapi.Settings
	b, _ := os.ReadFile(filepath.Join(dir, settings.File))
	if err := json.Unmarshal(b, &saved); err != nil || saved.Schedule != "always" || saved.IdleMinutes != 1 {
		t.Fatalf("saved %s (%v)", b, err)
	}
}

func TestSettingsFileDamaged(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, settings.File), []byte(`{"idle_minutes": "soon"`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, c := apiDaemon(t, dir, DaemonConfig{Settings: governor.Settings{IdleBefore: 2 * time.Minute}})
	s, err := c.Settings(context.Background())
	if err != nil || s.IdleMinutes != 2 {
		t.Fatalf("a damaged file must leave the command line's settings: %+v %v", s, err)
	}
}

func TestTelemetryAPI(t *testing.T) {
	d, c := apiDaemon(t, t.TempDir(), DaemonConfig{})
	ctx := context.Background()
	var tel localapi.Telemetry
	testenv.WaitFor(t, "a telemetry sample", 10*time.Second, func() bool {
		var err error
		tel, err = c.Telemetry(ctx)
		return err == nil && len(tel.Devices) > 0 && len(tel.Devices[0].Samples) > 0
	})
	if tel.IntervalS != 10 || tel.Devices[0].Name == "" || time.Since(tel.Devices[0].Samples[0].At) > time.Minute {
		t.Fatalf("telemetry %+v", tel)
	}
	if j, err := c.Job(ctx); err != nil || j != nil {
		t.Fatalf("no job runs, got %+v %v", j, err)
	}
	_ = d
}

// TestSettingsNoFileKeepsCommandLine: with nothing saved, the command
// line's settings run exactly, seconds included (the playground's idle).
func TestSettingsNoFileKeepsCommandLine(t *testing.T) {
	set := governor.Settings{IdleBefore: 10 * time.Second, MaxTempC: 70, Schedule: []governor.Window{{Days: []time.Weekday{time.Saturday}, Start: time.Hour, End: 2 * time.Hour}}}
	d := NewDaemon(DaemonConfig{DataDir: t.TempDir(), Settings: set, Log: quietLogger()})
	got := d.startSettings
	if got.IdleBefore != set.IdleBefore || got.MaxTempC != 70 || len(got.Schedule) != 1 || len(got.Schedule[0].Days) != 1 {
		t.Fatalf("governor settings %+v, want the command line's %+v", got, set)
	}
	if s := d.ownerSettings(); s.IdleMinutes != 1 || s.MaxTempC != 70 {
		t.Fatalf("shown as %+v", s)
	}
}

// TestPinnedOnFirstRun: with nothing saved yet (the playground's first
// run), the command line's idle time is in force and the settings say it
// came from there; the daemon's notice reaches the owner with the status.
func TestPinnedOnFirstRun(t *testing.T) {
	const notice = "Playground: work starts after 20s without input"
	_, c := apiDaemon(t, t.TempDir(), DaemonConfig{Settings: governor.Settings{IdleBefore: 20 * time.Second},
		Pinned: []string{settings.FieldIdleMinutes}, Notice: notice})
	ctx := context.Background()
	s, err := c.Settings(ctx)
	if err != nil || !slices.Equal(s.CommandLine, []string{settings.FieldIdleMinutes}) {
		t.Fatalf("settings %+v, %v: want idle_minutes named as the command line's", s, err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.Notice != notice {
		t.Fatalf("status notice %q, %v", st.Notice, err)
	}
}

// TestSettingsNetworkChoice: the network chosen in Settings must be one of
// the daemon's presets (the refusal names the field and the presets); a
// known one is saved, shown with the one in use, and the IOU choices
// reach the market.
func TestSettingsNetworkChoice(t *testing.T) {
	dir := t.TempDir()
	ious := &iouRecorder{}
	d, c, _ := stoppableDaemon(t, dir, DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Market: ious,
		Networks: []string{"local", "testnet"}})
	ctx := context.Background()
	testenv.WaitFor(t, "Available", 10*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })
	s, err := c.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Networks, []string{"local", "testnet"}) || s.NetworkInUse != "" {
		t.Fatalf("settings show networks %v, in use %q", s.Networks, s.NetworkInUse)
	}
	s.Network = "mainnet"
	_, err = c.UpdateSettings(ctx, s)
	var le *localapi.Error
	if !errors.As(err, &le) || le.Field != settings.FieldNetwork || !strings.Contains(le.Message, "local, testnet") {
		t.Fatalf("an unknown network: %v", err)
	}
	s.Network, s.IOUsFromStrangers = "testnet", true
	if s, err = c.UpdateSettings(ctx, s); err != nil || s.Network != "testnet" {
		t.Fatalf("a known network: %+v %v", s, err)
	}
	saved, found, err := settings.Load(dir)
	if err != nil || !found || saved.Network != "testnet" || saved.Networks != nil {
		t.Fatalf("saved %+v %v %v", saved, found, err)
	}
	if strangers, _ := ious.get(); !strangers {
		t.Error("the owner's opt-in to strangers' IOUs did not reach the market")
	}
}

// iouRecorder is a termsRecorder that records the IOU policy too.
type iouRecorder struct {
	termsRecorder
	strangers bool
	friends   []peer.ID
}

func (r *iouRecorder) SetIOUPolicy(strangers bool, friends []peer.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.strangers, r.friends = strangers, friends
}

func (r *iouRecorder) get() (bool, []peer.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.strangers, r.friends
}
