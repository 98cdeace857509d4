package app

import (
	"encoding/json"
	"errors"
	"fmt"
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
			v := Derive(c.st, c.connErr, Details{}, now)
			if v.Icon != c.icon || v.CanPause != c.pause || v.CanResume != c.resume || !strings.Contains(v.Next, c.nextHas) || v.JobFrozen != c.frozenJob {
				t.Errorf("view %+v", v)
			}
			if c.connErr == nil && v.Sentence != c.st.Sentence {
				t.Errorf("sentence %q, want the daemon's %q verbatim", v.Sentence, c.st.Sentence)
			}
			if v.Brief != v.Sentence { // these daemons send no brief line
				t.Errorf("brief %q, want the sentence %q from a daemon that sends none", v.Brief, v.Sentence)
			}
		})
	}
}

func TestDeriveBrief(t *testing.T) {
	st := localapi.Status{State: "Waiting", Reason: "active",
		Sentence: "Waiting: you were active 40 s ago — starting in 4 min 20 s",
		Brief:    "Waiting: you were active 1 min ago — starting in 4 min"}
	v := Derive(st, nil, Details{}, time.Now())
	if v.Sentence != st.Sentence || v.Brief != st.Brief {
		t.Errorf("sentence %q, brief %q; want the daemon's %q and %q", v.Sentence, v.Brief, st.Sentence, st.Brief)
	}
}

func TestDeriveMoney(t *testing.T) {
	v := Derive(localapi.Status{State: "Available", EarnedToday: "0.000000"}, nil,
		Details{Wallet: &localapi.Wallet{Today: 250_000}, WalletErr: errors.New("locked")}, time.Now())
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
		kinds      []NotificationKind
	}{
		{"nothing", avail, avail, true, nil, nil},
		{"job starts", avail, running, true, nil, nil},
		{"preempted", running, frozen, true, []string{"Job paused for you"}, []NotificationKind{JobFrozen}},
		{"first earnings", running, paid, true, []string{"Your first earnings"}, []NotificationKind{FirstEarnings}},
		{"later earnings are quiet", running, paid, false, nil, nil},
		{"problem", avail, hot, true, []string{"Spare stopped earning"}, []NotificationKind{StoppedEarning}},
		{"problem stays", hot, hot, true, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			var kinds []NotificationKind
			for _, n := range Notices(c.prev, c.next, c.first) {
				got = append(got, n.Title)
				kinds = append(kinds, n.Kind)
			}
			if strings.Join(got, "|") != strings.Join(c.titles, "|") {
				t.Errorf("notices %q, want %q", got, c.titles)
			}
			if fmt.Sprint(kinds) != fmt.Sprint(c.kinds) {
				t.Errorf("kinds %v, want %v", kinds, c.kinds)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadSettings(dir)
	if err != nil || s != (Settings{}) {
		t.Fatalf("defaults %+v, %v", s, err)
	}
	s, err = UpdateSettings(dir, func(s *Settings) { s.Onboarded = true })
	if err != nil || !s.Onboarded {
		t.Fatalf("updated %+v, %v", s, err)
	}
	back, err := LoadSettings(dir)
	if err != nil || back != s {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	// A file from a version that kept the work rules here still loads.
	old := `{"idle_minutes": 10, "schedule": "always", "start_at_login": true, "onboarded": true}`
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if back, err := LoadSettings(dir); err != nil || back != s {
		t.Errorf("an older file: %+v, %v", back, err)
	}
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadSettings(dir); err == nil || s != (Settings{}) {
		t.Errorf("a broken file: %+v, %v; want the zero value and an error", s, err)
	}
	// An update replaces a broken file, and keeps the keys it does not know.
	if s, err := UpdateSettings(dir, func(s *Settings) { s.FirstEarningsShown = true }); err != nil || s != (Settings{FirstEarningsShown: true}) {
		t.Errorf("updating a broken file: %+v, %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte(`{"onboarded": "yes", "newer": [1]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := UpdateSettings(dir, func(s *Settings) { s.FirstEarningsShown = true }); err != nil || s != (Settings{FirstEarningsShown: true}) {
		t.Errorf("updating a file with a broken key: %+v, %v", s, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, SettingsFile))
	var raw map[string]any
	if err == nil {
		err = json.Unmarshal(b, &raw)
	}
	if err != nil || raw["onboarded"] != false || raw["first_earnings_shown"] != true || raw["newer"] == nil {
		t.Errorf("after the update the file reads %s (%v): want onboarded false, first_earnings_shown true, newer kept", b, err)
	}
}

func TestWhatChanged(t *testing.T) {
	avail := localapi.Status{State: "Available"}
	running := localapi.Status{State: "Running", Job: "job-1"}
	cases := []struct {
		name       string
		prev, next localapi.Status
		first      bool
		want       fetch
	}{
		{"connect", localapi.Status{}, avail, true, fetchAll},
		{"nothing", avail, avail, false, 0},
		{"job starts", avail, running, false, fetchJob},
		{"wallet", running, localapi.Status{State: "Running", Job: "job-1", Event: localapi.EventWallet}, false, fetchWallet | fetchJob},
		{"settings", avail, localapi.Status{State: "Available", Event: localapi.EventSettings}, false, fetchSettings},
		{"job event", avail, localapi.Status{State: "Available", Event: localapi.EventJob}, false, fetchJob},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := whatChanged(c.prev, c.next, c.first); got != c.want {
				t.Errorf("fetch %b, want %b", got, c.want)
			}
		})
	}
}
