package governor

import (
	"slices"
	"testing"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

func TestSentence(t *testing.T) {
	now := time.Date(2025, 3, 14, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		st   Phase
		want string
	}{
		{"waiting, active", Phase{State: Waiting, Reason: Reason{Code: localapi.ReasonActive, At: now.Add(-40 * time.Second), Next: now.Add(260 * time.Second)}},
			"Waiting: you were active 40 s ago — starting in 4 min 20 s"},
		{"paused for an hour", Phase{State: Paused, Until: now.Add(time.Hour)}, "Paused until 21:00 (1 h left)"},
		{"paused until tomorrow", Phase{State: Paused, Until: time.Date(2025, 3, 15, 6, 0, 0, 0, time.UTC)}, "Paused until tomorrow 06:00 (10 h left)"},
		{"paused until resumed", Phase{State: Paused}, "Paused until you resume"},
		{"frozen by input", Phase{State: Frozen, Job: "job-1", Since: now.Add(-2 * time.Second), EndsAt: now.Add(8 * time.Second),
			Reason: Reason{Code: localapi.ReasonActive, At: now.Add(-2 * time.Second)}},
			"Frozen 2 s ago: you were active 2 s ago — the job ends in 8 s unless you step away"},
		{"frozen hot", Phase{State: Frozen, Job: "job-1", Since: now.Add(-time.Minute), EndsAt: now.Add(time.Minute),
			Reason: Reason{Code: localapi.ReasonHot, Detail: "RTX 4090", Value: 84, Limit: 75}},
			"Frozen 1 min ago: RTX 4090 at 84 °C — resuming at 75 °C — the job ends in 1 min unless you step away"},
		{"schedule", Phase{State: Waiting, Reason: Reason{Code: localapi.ReasonSchedule, Next: now.Add(2 * time.Hour)}}, "Waiting: outside your schedule — next window at 22:00"},
		{"battery", Phase{State: Waiting, Reason: Reason{Code: localapi.ReasonBattery}}, "Waiting: running on battery"},
		{"charge", Phase{State: Waiting, Reason: Reason{Code: localapi.ReasonCharge, Value: 15, Limit: 20}}, "Waiting: battery at 15 %, below 20 %"},
		{"game", Phase{State: Waiting, Reason: Reason{Code: localapi.ReasonGame, Detail: "eldenring.exe"}}, "Waiting: eldenring.exe is running"},
		{"silent", Phase{State: Waiting, Reason: Reason{Code: localapi.ReasonSilent, At: now.Add(-90 * time.Second)}},
			"Waiting: no word from the Spare app for 1 min 30 s, so assuming you are here"},
		{"available", Phase{State: Available, GPUs: []string{"RTX 4090"}}, "Available: offering RTX 4090 for work"},
		{"running", Phase{State: Running, Job: "0123456789abcdef", GPUs: []string{"RTX 4090"}}, "Running job 0123456789ab on RTX 4090"},
		{"off", Phase{State: Off, Reason: Reason{Code: localapi.ReasonOff, Detail: "no NVIDIA GPU"}}, "Off: no NVIDIA GPU"},
		{"runtime gone", Phase{State: Waiting, Reason: Reason{Code: localapi.ReasonRuntime, Detail: "sudo systemctl start containerd"}},
			"Waiting: the container service stopped — start it: sudo systemctl start containerd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.st.Sentence(now); got != tt.want {
				t.Errorf("Sentence =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func TestBrief(t *testing.T) {
	now := time.Date(2025, 3, 14, 20, 0, 0, 0, time.UTC)
	waiting := func(active, next time.Duration) Phase {
		return Phase{State: Waiting, Reason: Reason{Code: localapi.ReasonActive, At: now.Add(-active), Next: now.Add(next)}}
	}
	for _, tt := range []struct {
		name string
		st   Phase
		want string
	}{
		{"waiting, active", waiting(40*time.Second, 260*time.Second), "Waiting: you were active 1 min ago — starting in 4 min"},
		{"just active", waiting(10*time.Second, 290*time.Second), "Waiting: you were active less than a minute ago — starting in 5 min"},
		{"nearly starting", waiting(280*time.Second, 20*time.Second), "Waiting: you were active 5 min ago — starting in less than a minute"},
		{"paused for a while", Phase{State: Paused, Until: now.Add(4*time.Minute + 50*time.Second)}, "Paused until 20:04 (5 min left)"},
		{"frozen by input", Phase{State: Frozen, Job: "job-1", Since: now.Add(-2 * time.Second), EndsAt: now.Add(8 * time.Second),
			Reason: Reason{Code: localapi.ReasonActive, At: now.Add(-2 * time.Second)}},
			"Frozen less than a minute ago: you were active less than a minute ago — the job ends in less than a minute unless you step away"},
		{"available", Phase{State: Available, GPUs: []string{"RTX 4090"}}, "Available: offering RTX 4090 for work"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.st.Brief(now); got != tt.want {
				t.Errorf("Brief =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
	// Over the five minutes of a wait the sentence takes ~300 texts and
	// the brief line a handful: the tray menu is rebuilt that often.
	st := waiting(0, 5*time.Minute)
	st.Reason.At, st.Reason.Next = now, now.Add(5*time.Minute)
	sentences, briefs := map[string]bool{}, map[string]bool{}
	for s := 0; s < 300; s++ {
		at := now.Add(time.Duration(s) * time.Second)
		sentences[st.Sentence(at)], briefs[st.Brief(at)] = true, true
	}
	if len(briefs) > 12 || len(sentences) < 290 {
		t.Errorf("over 5 min: %d sentences, %d brief lines; want the brief to change at most twice a minute", len(sentences), len(briefs))
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 s", 40 * time.Second: "40 s", 260 * time.Second: "4 min 20 s", 5 * time.Minute: "5 min",
		12*time.Minute + 20*time.Second: "12 min", time.Hour + 5*time.Minute: "1 h 5 min", 2 * time.Hour: "2 h",
		-time.Second: "0 s",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestStateString(t *testing.T) {
	since := time.Date(2025, 3, 14, 20, 0, 3, 250e6, time.UTC)
	for st, want := range map[*Phase]string{
		{State: Off, Reason: Reason{Code: localapi.ReasonOff}}: "Off(off)",
		{State: Paused}: "Paused(until resumed)",
		{State: Waiting, Reason: Reason{Code: localapi.ReasonActive}}: "Waiting(active)",
		{State: Available}:                      "Available",
		{State: Running, Job: "j"}:              "Running(j)",
		{State: Frozen, Job: "j", Since: since}: "Frozen(j, since 20:00:03.250)",
		{State: Draining}:                       "Draining",
	} {
		if got := st.String(); got != want {
			t.Errorf("String = %q, want %q", got, want)
		}
	}
	if got := State(42).String(); got != "Kind(42)" {
		t.Errorf("unknown kind: %q", got)
	}
}

func TestSchedule(t *testing.T) {
	night, err := ParseWindow("22:00-07:00")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseWindow("22h"); err == nil {
		t.Error("ParseWindow accepted 22h")
	}
	loc := time.UTC
	day := func(h, m int) time.Time { return time.Date(2025, 3, 14, h, m, 0, 0, loc) } // a Friday
	weekend := Window{Days: []time.Weekday{time.Saturday, time.Sunday}, Start: 9 * time.Hour, End: 17 * time.Hour}
	tests := []struct {
		name   string
		ws     []Window
		now    time.Time
		in     bool
		change time.Time
	}{
		{"empty: always", nil, day(12, 0), true, time.Time{}},
		{"before the night window", []Window{night}, day(21, 0), false, day(22, 0)},
		{"inside, before midnight", []Window{night}, day(23, 0), true, time.Date(2025, 3, 15, 7, 0, 0, 0, loc)},
		{"inside, after midnight", []Window{night}, day(3, 0), true, day(7, 0)},
		{"weekend window on Friday", []Window{weekend}, day(12, 0), false, time.Date(2025, 3, 15, 9, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, change := inSchedule(tt.ws, tt.now, loc)
			if in != tt.in || !change.Equal(tt.change) {
				t.Errorf("inSchedule = %v, %v; want %v, %v", in, change, tt.in, tt.change)
			}
		})
	}
}

func TestPauseHelpers(t *testing.T) {
	loc := time.UTC
	eve := time.Date(2025, 3, 14, 20, 0, 0, 0, loc)
	if p := PauseUntilTomorrow(eve, loc); !p.Until.Equal(time.Date(2025, 3, 15, 6, 0, 0, 0, loc)) {
		t.Errorf("tomorrow from 20:00 = %v", p.Until)
	}
	early := time.Date(2025, 3, 14, 2, 0, 0, 0, loc)
	if p := PauseUntilTomorrow(early, loc); !p.Until.Equal(time.Date(2025, 3, 14, 6, 0, 0, 0, loc)) {
		t.Errorf("tomorrow from 02:00 = %v", p.Until)
	}
	p := PauseFor(eve, time.Hour)
	if !p.Active(eve.Add(59*time.Minute)) || p.Active(eve.Add(time.Hour)) {
		t.Error("PauseFor(1h) active window wrong")
	}
	if !PauseUntilResumed().Active(eve.AddDate(1, 0, 0)) || (Pause{}).Active(eve) {
		t.Error("indefinite / zero pause wrong")
	}
}

// TestDecideRules covers single-step rules not in the traces.
func TestDecideRules(t *testing.T) {
	now := time.Date(2025, 3, 14, 20, 0, 0, 0, time.UTC)
	dev := gpu.Device{Index: 0, UUID: "GPU-1", Name: "RTX", TemperatureC: 40}
	away := presence.Report{At: now, Idle: time.Hour, IdleKnown: true}
	base := Inputs{Presence: away, GPU: gpu.Snapshot{At: now, Devices: []gpu.Device{dev}}}
	with := func(f func(*Inputs)) Inputs {
		in := base
		in.GPU.Devices = slices.Clone(base.GPU.Devices)
		f(&in)
		return in
	}
	tests := []struct {
		name string
		in   Inputs
		set  Settings
		want string
	}{
		{"idle long enough", base, Settings{}, "Available"},
		{"locked screen counts as away", with(func(in *Inputs) { in.Presence.Idle = time.Second; in.Presence.Locked = true }), Settings{}, "Available"},
		{"idle unknown", with(func(in *Inputs) { in.Presence.IdleKnown = false }), Settings{}, "Waiting(idle-unknown)"},
		{"sleeping", with(func(in *Inputs) { in.Presence.Sleeping = true }), Settings{}, "Waiting(sleeping)"},
		{"charge floor on AC", with(func(in *Inputs) { in.Power = presence.Power{At: now, Known: true, Charge: 10} }), Settings{}, "Waiting(charge)"},
		{"battery allowed", with(func(in *Inputs) { in.Power = presence.Power{At: now, Known: true, OnBattery: true, Charge: 90} }), Settings{WorkOnBattery: true}, "Available"},
		{"no charge floor", with(func(in *Inputs) { in.Power = presence.Power{At: now, Known: true, Charge: 5} }), Settings{MinCharge: -1}, "Available"},
		{"off", with(func(in *Inputs) { in.Off = "no NVIDIA GPU" }), Settings{}, "Off(off)"},
		{"draining", with(func(in *Inputs) { in.Draining = true }), Settings{}, "Draining"},
		{"no telemetry yet", with(func(in *Inputs) { in.GPU = gpu.Snapshot{} }), Settings{}, "Waiting(no-gpu)"},
		{"foreign process", with(func(in *Inputs) {
			d := dev
			d.Processes = []gpu.Process{{PID: 55, Kind: gpu.Compute, Name: "ollama"}}
			in.GPU.Devices = []gpu.Device{d}
		}), Settings{}, "Waiting(foreign-gpu)"},
		{"own process by predicate", with(func(in *Inputs) {
			d := dev
			d.Processes = []gpu.Process{{PID: 55, Kind: gpu.Compute}}
			in.GPU.Devices = []gpu.Device{d}
			in.Own = gpu.PIDSet(55)
		}), Settings{}, "Available"},
		{"hot", with(func(in *Inputs) { in.GPU.Devices[0].TemperatureC = 90 }), Settings{}, "Waiting(hot)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := Decide(Status{}, tt.in, now, tt.set)
			if got := st.Phase.String(); got != tt.want {
				t.Errorf("state = %s, want %s (%s)", got, tt.want, st.Phase.Sentence(now))
			}
		})
	}
}
