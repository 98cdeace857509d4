package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/assets"
	"github.com/sparegpu/spare/localapi"
)

func TestDerive(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		st        localapi.Status
		connErr   error
		icon      assets.TrayState
		pause     bool
		resume    bool
		nextHas   string
		frozenJob bool
	}{
		{"available", localapi.Status{State: "Available", Sentence: "Available: offering CPU for work"}, nil, assets.Waiting, true, false, "Ready", false},
		{"owner active", localapi.Status{State: "Waiting", Reason: "active", Sentence: "Waiting: you were active 1 min ago"}, nil, assets.Waiting, true, false, "on its own", false},
		{"too hot", localapi.Status{State: "Waiting", Reason: "hot", Sentence: "Waiting: the GPU is hot"}, nil, assets.Problem, true, false, "fixed", false},
		{"running", localapi.Status{State: "Running", Job: "abc", Sentence: "Running job abc"}, nil, assets.Earning, true, false, "Earning", false},
		{"frozen", localapi.Status{State: "Frozen", Job: "abc", Sentence: "Frozen 2 s ago"}, nil, assets.Paused, true, false, "waits", true},
		{"paused until resumed", localapi.Status{State: "Paused", Sentence: "Paused until you resume"}, nil, assets.Paused, false, true, "Resume", false},
		{"paused 1h", localapi.Status{State: "Paused", Until: now.Add(time.Hour), Sentence: "Paused until 13:00"}, nil, assets.Paused, false, true, "starts again at", false},
		{"no daemon", localapi.Status{}, localapi.ErrNoDaemon, assets.Problem, false, false, "keeps trying", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Derive(c.st, c.connErr, Money{}, nil, now)
			if v.Icon != c.icon || v.CanPause != c.pause || v.CanResume != c.resume || !strings.Contains(v.Next, c.nextHas) || v.JobFrozen != c.frozenJob {
				t.Errorf("view %+v", v)
			}
			if c.connErr == nil && v.Sentence != c.st.Sentence {
				t.Errorf("sentence %q, want the daemon's %q verbatim", v.Sentence, c.st.Sentence)
			}
		})
	}
}

func TestDeriveMoney(t *testing.T) {
	v := Derive(localapi.Status{State: "Available", EarnedToday: "0.000000"}, nil, Money{Today: "0.250000"}, errors.New("locked"), time.Now())
	if v.EarnedToday != "0.250000" || v.TodayLine() != "Earned today: 0.250000 USDC" || !strings.Contains(v.MoneyErr, "locked") {
		t.Errorf("view %+v", v)
	}
}

func TestNotices(t *testing.T) {
	avail := View{State: "Available", Icon: assets.Waiting, EarnedToday: "0.000000"}
	running := View{State: "Running", Icon: assets.Earning, EarnedToday: "0.000000"}
	frozen := View{State: "Frozen", Icon: assets.Paused, Sentence: "Frozen 1 s ago: you are back", EarnedToday: "0.000000"}
	paid := View{State: "Running", Icon: assets.Earning, EarnedToday: "0.010000"}
	hot := View{State: "Waiting", Icon: assets.Problem, Sentence: "Waiting: the GPU is hot", EarnedToday: "0.000000"}
	cases := []struct {
		name       string
		prev, next View
		first      bool
		titles     []string
	}{
		{"nothing", avail, avail, true, nil},
		{"job starts", avail, running, true, nil},
		{"preempted", running, frozen, true, []string{"Job paused for you"}},
		{"first earnings", running, paid, true, []string{"Your first earnings"}},
		{"later earnings are quiet", running, paid, false, nil},
		{"problem", avail, hot, true, []string{"Spare stopped earning"}},
		{"problem stays", hot, hot, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, n := range Notices(c.prev, c.next, c.first) {
				got = append(got, n.Title)
			}
			if strings.Join(got, "|") != strings.Join(c.titles, "|") {
				t.Errorf("notices %q, want %q", got, c.titles)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadSettings(dir)
	if err != nil || s.IdleMinutes != 5 || s.MaxTempC != 83 || len(s.Workloads) != 2 {
		t.Fatalf("defaults %+v, %v", s, err)
	}
	s.IdleMinutes, s.Schedule, s.PriceFloor, s.Workloads = 10, "22:00-07:00", "0.25", []string{"render"}
	if err := SaveSettings(dir, s); err != nil {
		t.Fatal(err)
	}
	back, err := LoadSettings(dir)
	if err != nil || back.IdleMinutes != 10 || back.Schedule != "22:00-07:00" || back.Workloads[0] != "render" {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	bad := []struct {
		name  string
		edit  func(*Settings)
		field string
	}{
		{"idle zero", func(s *Settings) { s.IdleMinutes = 0 }, "idle minutes"},
		{"too hot", func(s *Settings) { s.MaxTempC = 120 }, "max temperature"},
		{"schedule", func(s *Settings) { s.Schedule = "evenings" }, "schedule"},
		{"price", func(s *Settings) { s.PriceFloor = "cheap" }, "price floor"},
		{"workload", func(s *Settings) { s.Workloads = []string{"mining"} }, "workloads"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			s := DefaultSettings()
			c.edit(&s)
			err := SaveSettings(t.TempDir(), s)
			if err == nil || !strings.Contains(err.Error(), c.field) {
				t.Errorf("error %v, want one naming %q", err, c.field)
			}
		})
	}
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadSettings(dir); err == nil || s.IdleMinutes != 5 {
		t.Errorf("a broken file: %+v, %v; want defaults and an error", s, err)
	}
}
