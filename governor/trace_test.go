package governor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/presence"
)

// traceEvent is one line of a presence trace in testdata.
type traceEvent struct {
	TMs      int64 `json:"t_ms"`
	Presence *struct {
		IdleMs   int64    `json:"idle_ms"`
		Locked   bool     `json:"locked"`
		Sleeping bool     `json:"sleeping"`
		Game     string   `json:"game"`
		GamePIDs []uint32 `json:"game_pids"`
	} `json:"presence"`
	Power *struct {
		OnBattery bool `json:"on_battery"`
		Charge    int  `json:"charge"`
	} `json:"power"`
	StartJob *Job `json:"start_job"`
	Pause    *struct {
		ForMs      int64 `json:"for_ms"`
		Indefinite bool  `json:"indefinite"`
		Resume     bool  `json:"resume"`
	} `json:"pause"`
	Marker string `json:"marker"`
}

func loadTrace(t *testing.T, path string) []traceEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []traceEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		b := sc.Bytes()
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		var e traceEvent
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TMs < out[j].TMs })
	return out
}

var traceStart = time.Date(2025, 3, 14, 20, 0, 0, 0, time.UTC)

// replayResult is what happened while replaying a trace.
type replayResult struct {
	actions []string         // "t_ms action"
	states  map[int64]string // state String() at each step
	at      func(ms int64) Status
}

// replay runs Decide over the merged presence trace and GPU recording at
// every input time and every wake-up the governor asks for, like the
// driver does, with a fake clock. An End action removes the job as the
// sandbox would.
func replay(t *testing.T, trace, telemetry string, set Settings, until int64) replayResult {
	t.Helper()
	evs := loadTrace(t, filepath.Join("testdata", trace))
	rp, err := gpu.LoadReplay(filepath.Join("..", "gpu", "testdata", telemetry), traceStart)
	if err != nil {
		t.Fatal(err)
	}
	snaps := rp.Snapshots()
	times := map[int64]bool{}
	for _, e := range evs {
		times[e.TMs] = true
	}
	for _, s := range snaps {
		times[s.At.Sub(traceStart).Milliseconds()] = true
	}
	var queue []int64
	for k := range times {
		queue = append(queue, k)
	}
	sort.Slice(queue, func(i, j int) bool { return queue[i] < queue[j] })

	var (
		in   Inputs
		st   Status
		res  = replayResult{states: map[int64]string{}}
		hist []struct {
			ms int64
			st Status
		}
		ei, si int
		gone   []uint32 // PIDs of ended jobs: the sandbox killed them
	)
	in.Power = presence.Power{Charge: -1}
	for len(queue) > 0 {
		ms := queue[0]
		queue = queue[1:]
		if ms > until {
			break
		}
		now := traceStart.Add(time.Duration(ms) * time.Millisecond)
		for ; ei < len(evs) && evs[ei].TMs <= ms; ei++ {
			e := evs[ei]
			switch {
			case e.Presence != nil:
				p := e.Presence
				in.Presence = presence.Report{At: now, Idle: time.Duration(p.IdleMs) * time.Millisecond, IdleKnown: true,
					Locked: p.Locked, Sleeping: p.Sleeping, Game: p.Game, GamePIDs: p.GamePIDs, Source: "trace"}
			case e.Power != nil:
				in.Power = presence.Power{At: now, Known: true, OnBattery: e.Power.OnBattery, Charge: e.Power.Charge}
			case e.StartJob != nil:
				in.Jobs = append(in.Jobs, *e.StartJob)
			case e.Pause != nil:
				switch {
				case e.Pause.Resume:
					in.Pause = Pause{}
				case e.Pause.Indefinite:
					in.Pause = PauseUntilResumed()
				default:
					in.Pause = PauseFor(now, time.Duration(e.Pause.ForMs)*time.Millisecond)
				}
			}
		}
		for ; si < len(snaps) && !snaps[si].At.After(now); si++ {
			in.GPU = withoutPIDs(snaps[si], gone)
		}
		var acts []Action
		st, acts = Decide(st, in, now, set)
		for _, a := range acts {
			res.actions = append(res.actions, fmt.Sprintf("%d %s", ms, a))
			if a.Kind == ActEnd {
				in.Jobs = slices.DeleteFunc(in.Jobs, func(j Job) bool {
					if j.ID == a.Job {
						gone = append(gone, j.PIDs...)
					}
					return j.ID == a.Job
				})
				in.GPU = withoutPIDs(in.GPU, gone)
			}
		}
		res.states[ms] = st.Phase.String()
		hist = append(hist, struct {
			ms int64
			st Status
		}{ms, st})
		if !st.Wake.IsZero() {
			w := st.Wake.Sub(traceStart).Milliseconds()
			if !slices.Contains(queue, w) {
				queue = append(queue, w)
				sort.Slice(queue, func(i, j int) bool { return queue[i] < queue[j] })
			}
		}
	}
	res.at = func(ms int64) Status {
		var s Status
		for _, h := range hist {
			if h.ms <= ms {
				s = h.st
			}
		}
		return s
	}
	return res
}

func TestDecideTraces(t *testing.T) {
	tests := []struct {
		name      string
		trace     string
		telemetry string
		set       Settings
		until     int64
		actions   []string
		states    map[int64]string // state after the step at that time
	}{
		{
			name: "owner returns and stays: freeze at once, end after the grace", trace: "owner-returns.jsonl", telemetry: "one-gpu.jsonl", until: 760000,
			actions: []string{
				"300000 publish[GPU-cccc]",
				"330000 withdraw",
				"400012 freeze(job-1, active)", "400012 notify(job-1, active)",
				"410012 end(job-1, active)", "410012 notify(job-1, active)",
				"719963 publish[GPU-cccc]",
			},
			states: map[int64]string{299999: "Waiting(active)", 300000: "Available", 330000: "Running(job-1)",
				400012: "Frozen(job-1, since 20:06:40.012)", 410012: "Waiting(active)", 719963: "Available"},
		},
		{
			name: "a brief touch freezes, then the job resumes", trace: "touch.jsonl", telemetry: "one-gpu.jsonl", until: 460000,
			actions: []string{
				"300000 publish[GPU-cccc]",
				"330000 withdraw",
				"400012 freeze(job-1, active)", "400012 notify(job-1, active)",
				"410012 thaw(job-1, )", "410012 notify(job-1, )",
			},
			states: map[int64]string{405000: "Frozen(job-1, since 20:06:40.012)", 410012: "Running(job-1)", 460000: "Running(job-1)"},
		},
		{
			name: "a silent sensor means the owner is present", trace: "silent.jsonl", telemetry: "one-gpu.jsonl", until: 480000,
			actions: []string{
				"300000 publish[GPU-cccc]",
				"330000 withdraw",
				"430000 freeze(job-1, silent)", "430000 notify(job-1, silent)",
				"440000 end(job-1, silent)", "440000 notify(job-1, silent)",
			},
			states: map[int64]string{440000: "Waiting(silent)"},
		},
		{
			name: "always available ignores a silent sensor", trace: "silent.jsonl", telemetry: "one-gpu.jsonl", until: 480000,
			set: Settings{AlwaysAvailable: true},
			actions: []string{
				"0 publish[GPU-cccc]",
				"330000 withdraw",
			},
			states: map[int64]string{480000: "Running(job-1)"},
		},
		{
			name: "no work on battery", trace: "battery.jsonl", telemetry: "one-gpu.jsonl", until: 900000,
			actions: []string{
				"300000 publish[GPU-cccc]",
				"330000 withdraw",
				"500000 end(job-1, battery)", "500000 notify(job-1, battery)",
				"600000 publish[GPU-cccc]",
			},
			states: map[int64]string{500000: "Waiting(battery)", 600000: "Available"},
		},
		{
			name: "pause for an hour ends the job and withdraws", trace: "pause.jsonl", telemetry: "one-gpu.jsonl", until: 400000,
			actions: []string{
				"300000 publish[GPU-cccc]",
				"330000 withdraw",
				"350000 end(job-1, paused)", "350000 notify(job-1, paused)",
			},
			states: map[int64]string{350000: "Paused(until 2025-03-14T21:05:50Z)"},
		},
		{
			name: "a game takes back its GPU, the other keeps working", trace: "game.jsonl", telemetry: "two-gpus-game.jsonl", until: 85000,
			actions: []string{
				"0 publish[GPU-aaaa GPU-bbbb]",
				"1000 withdraw",
				"19001 freeze(job-a, game)", "19001 notify(job-a, game)",
				"19001 freeze(job-b, game)", "19001 notify(job-b, game)",
				"20000 end(job-a, game)", "20000 notify(job-a, game)",
				"20000 thaw(job-b, )", "20000 notify(job-b, )",
				"60000 publish[GPU-aaaa]",
			},
			states: map[int64]string{19001: "Frozen(job-a, since 20:00:19.001)", 20000: "Running(job-b)", 60000: "Running(job-b)"},
		},
		{
			name: "a hot GPU freezes its job and resumes below the hysteresis", trace: "away.jsonl", telemetry: "hot.jsonl", until: 85000,
			actions: []string{
				"30000 freeze(job-1, hot)", "30000 notify(job-1, hot)",
				"70000 thaw(job-1, )", "70000 notify(job-1, )",
			},
			states: map[int64]string{0: "Running(job-1)", 60000: "Frozen(job-1, since 20:00:30.000)", 70000: "Running(job-1)"},
		},
		{
			name: "stale telemetry freezes, then ends", trace: "away.jsonl", telemetry: "hot.jsonl", until: 130000,
			set: Settings{MaxTempC: 95},
			actions: []string{
				"110000 freeze(job-1, no-gpu)", "110000 notify(job-1, no-gpu)",
				"120000 end(job-1, no-gpu)", "120000 notify(job-1, no-gpu)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := replay(t, tt.trace, tt.telemetry, tt.set, tt.until)
			if !slices.Equal(res.actions, tt.actions) {
				t.Errorf("actions:\n got %q\nwant %q", res.actions, tt.actions)
			}
			for ms, want := range tt.states {
				if got := res.at(ms).Phase.String(); got != want {
					t.Errorf("state at %d ms = %s, want %s (%s)", ms, got, want, res.at(ms).Phase.Sentence(traceStart.Add(time.Duration(ms)*time.Millisecond)))
				}
			}
		})
	}
}

// withoutPIDs drops the processes of ended jobs from a recorded snapshot.
func withoutPIDs(s gpu.Snapshot, pids []uint32) gpu.Snapshot {
	out := s
	out.Devices = nil
	for _, d := range s.Devices {
		d.Processes = slices.DeleteFunc(slices.Clone(d.Processes), func(p gpu.Process) bool { return slices.Contains(pids, p.PID) })
		out.Devices = append(out.Devices, d)
	}
	return out
}
