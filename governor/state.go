package governor

import (
	"fmt"
	"strings"
	"time"

	"github.com/sparegpu/spare/localapi"
)

// State is the governor's top-level state.
type State int

// The governor's states. See DESIGN.md, section Governor.
const (
	Off       State = iota // switched off or no usable GPU
	Paused                 // the owner paused sharing (until a time, or until resumed)
	Waiting                // allowed in principle, held back for a reason
	Available              // advertising free GPUs, accepting work
	Running                // a job runs
	Frozen                 // a job is frozen (cgroup freezer) because the owner came back
	Draining               // ending jobs before the node stops
)

// Word is the state as the LocalAPI says it (localapi.States, in order).
func (k State) Word() localapi.State {
	if int(k) < len(localapi.States) && k >= 0 {
		return localapi.States[k]
	}
	return localapi.State(fmt.Sprintf("Kind(%d)", int(k)))
}

func (k State) String() string { return string(k.Word()) }

// Reason is a reason code with the facts needed to say it in words.
type Reason struct {
	Code localapi.Reason `json:"code"`
	// At is a moment the sentence counts from (last input, last report).
	At time.Time `json:"at,omitzero"`
	// Next is when the hold is expected to lift (zero: unknown).
	Next time.Time `json:"next,omitzero"`
	// Detail names the thing: a program, a GPU, an off reason.
	Detail string `json:"detail,omitempty"`
	// Value is a number for the sentence: °C, percent.
	Value int `json:"value,omitempty"`
	// Limit is the threshold Value is compared to.
	Limit int `json:"limit,omitempty"`
}

// Phrase renders the reason as a clause a person reads, at now.
func (r Reason) Phrase(now time.Time) string { return r.phrase(now, Human) }

// phrase renders the reason with durations written by human.
func (r Reason) phrase(now time.Time, human func(time.Duration) string) string {
	var s string
	switch r.Code {
	case localapi.ReasonActive:
		s = "you were active " + ago(now, r.At, human)
	case localapi.ReasonSilent:
		if r.At.IsZero() {
			s = "no word yet from the Spare app, so assuming you are here"
		} else {
			s = "no word from the Spare app for " + human(now.Sub(r.At)) + ", so assuming you are here"
		}
	case localapi.ReasonIdleUnknown:
		s = "cannot tell whether you are using the computer"
	case localapi.ReasonSleeping:
		s = "the computer is going to sleep"
	case localapi.ReasonGame:
		s = r.Detail + " is running"
	case localapi.ReasonForeignGPU:
		s = r.Detail + " is using the GPU"
	case localapi.ReasonBattery:
		s = "running on battery"
	case localapi.ReasonCharge:
		s = fmt.Sprintf("battery at %d %%, below %d %%", r.Value, r.Limit)
	case localapi.ReasonHot:
		s = fmt.Sprintf("%s at %d °C — resuming at %d °C", r.Detail, r.Value, r.Limit)
	case localapi.ReasonSchedule:
		s = "outside your schedule"
		if !r.Next.IsZero() {
			s += " — next window " + clock(now, r.Next)
		}
		return s
	case localapi.ReasonNoGPU:
		s = r.Detail
		if s == "" {
			s = "no GPU readings"
		}
	case localapi.ReasonPaused:
		s = "paused by you"
	case localapi.ReasonDraining:
		s = "Spare is stopping"
	case localapi.ReasonRuntime:
		s = "the container service stopped"
		if r.Detail != "" {
			s += " — start it: " + r.Detail
		}
	case localapi.ReasonOff:
		s = r.Detail
		if s == "" {
			s = "switched off"
		}
	default:
		s = string(r.Code)
	}
	if !r.Next.IsZero() && r.Next.After(now) {
		s += " — starting in " + human(r.Next.Sub(now))
	}
	return s
}

// Phase is the governor's state with what a person needs to read it.
type Phase struct {
	State State `json:"kind"`
	// Job is the job Running or Frozen (the first, when several run).
	Job string `json:"job,omitempty"`
	// Since is when a job was frozen (Frozen), or when the state began.
	Since time.Time `json:"since,omitzero"`
	// Until is when a pause ends; zero while Paused means until resumed.
	Until time.Time `json:"until,omitzero"`
	// Reason explains Off, Waiting and Frozen.
	Reason Reason `json:"reason,omitzero"`
	// EndsAt is when a frozen job will be ended if the owner stays.
	EndsAt time.Time `json:"ends_at,omitzero"`
	// GPUs names the GPUs Available offers or a job runs on.
	GPUs []string `json:"gpus,omitempty"`
}

// String is the compact form for logs: "Frozen(job-1, since 12:00:03.250)".
func (s Phase) String() string {
	switch s.State {
	case Paused:
		if s.Until.IsZero() {
			return "Paused(until resumed)"
		}
		return "Paused(until " + s.Until.Format(time.RFC3339) + ")"
	case Waiting, Off:
		return s.State.String() + "(" + string(s.Reason.Code) + ")"
	case Running:
		return "Running(" + s.Job + ")"
	case Frozen:
		return "Frozen(" + s.Job + ", since " + s.Since.Format("15:04:05.000") + ")"
	}
	return s.State.String()
}

// Sentence is what the window shows, rendered at now, to the second:
// "Waiting: you were active 40 s ago — starting in 4 min 20 s".
func (s Phase) Sentence(now time.Time) string { return s.sentence(now, Human) }

// Brief is the sentence with its durations to the minute, the tray's
// line: "Waiting: you were active less than a minute ago — starting in
// 4 min". It changes about once a minute, where the sentence changes
// every second, and each change rebuilds the tray menu.
func (s Phase) Brief(now time.Time) string { return s.sentence(now, Rough) }

func (s Phase) sentence(now time.Time, human func(time.Duration) string) string {
	switch s.State {
	case Off:
		return "Off: " + s.Reason.phrase(now, human)
	case Paused:
		if s.Until.IsZero() {
			return "Paused until you resume"
		}
		return "Paused until " + clockAt(now, s.Until) + " (" + human(s.Until.Sub(now)) + " left)"
	case Waiting:
		return "Waiting: " + s.Reason.phrase(now, human)
	case Available:
		return "Available: offering " + strings.Join(s.GPUs, ", ") + " for work"
	case Running:
		return "Running job " + short(s.Job) + " on " + strings.Join(s.GPUs, ", ")
	case Frozen:
		out := "Frozen " + ago(now, s.Since, human) + ": " + s.Reason.phrase(now, human)
		if !s.EndsAt.IsZero() {
			if s.EndsAt.After(now) {
				out += " — the job ends in " + human(s.EndsAt.Sub(now)) + " unless you step away"
			} else {
				out += " — ending the job"
			}
		}
		return out
	case Draining:
		return "Draining: ending work before Spare stops"
	}
	return s.State.String()
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func ago(now, t time.Time, human func(time.Duration) string) string {
	if t.IsZero() {
		return "a while ago"
	}
	d := now.Sub(t)
	if d < time.Second {
		return "just now"
	}
	return human(d) + " ago"
}

// Rough writes a duration to the nearest minute, as the tray says it:
// "less than a minute", "4 min", "1 h 5 min".
func Rough(d time.Duration) string {
	if d < 30*time.Second {
		return "less than a minute"
	}
	return Human(d.Round(time.Minute))
}

// Human writes a duration the way the window says it: "40 s", "4 min 20 s",
// "12 min", "1 h 5 min". It rounds to the nearest second.
func Human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	sec := int64((d + time.Second/2) / time.Second)
	switch {
	case sec < 60:
		return fmt.Sprintf("%d s", sec)
	case sec < 600:
		if sec%60 == 0 {
			return fmt.Sprintf("%d min", sec/60)
		}
		return fmt.Sprintf("%d min %d s", sec/60, sec%60)
	case sec < 3600:
		return fmt.Sprintf("%d min", (sec+30)/60)
	default:
		m := (sec + 30) / 60
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
}

// clock says when t happens relative to now: "at 22:00", "tomorrow at 06:00".
func clock(now, t time.Time) string {
	c := clockAt(now, t)
	if strings.HasPrefix(c, "tomorrow ") {
		return "tomorrow at " + strings.TrimPrefix(c, "tomorrow ")
	}
	return "at " + c
}

func clockAt(now, t time.Time) string {
	t = t.In(now.Location())
	ny, nm, nd := now.Date()
	ty, tm, td := t.Date()
	switch {
	case ny == ty && nm == tm && nd == td:
		return t.Format("15:04")
	case now.AddDate(0, 0, 1).Day() == td && t.Sub(now) < 48*time.Hour:
		return "tomorrow " + t.Format("15:04")
	default:
		return t.Format("Mon 2 Jan 15:04")
	}
}
