package governor

import (
	"fmt"
	"time"
)

// Settings are the owner's rules for the governor. The zero value means
// the documented defaults; each field says what its zero value does.
type Settings struct {
	// IdleBefore is how long without input before work may start.
	// Zero: 5 min.
	IdleBefore time.Duration
	// Grace is how long a job stays frozen after the owner returns before
	// it is ended to free VRAM. A touch that stops within the first second
	// and is followed by quiet for the whole grace resumes the job instead.
	// Zero: 10 s. (A game or a foreign GPU process ends the job at once.)
	Grace time.Duration
	// SensorSilence is how old the last presence report may be before the
	// owner is assumed present. Zero: 30 s.
	SensorSilence time.Duration
	// TelemetrySilence is how old GPU telemetry may be before a GPU is
	// treated as busy. Zero: 30 s.
	TelemetrySilence time.Duration
	// AlwaysAvailable ignores keyboard and mouse (headless servers,
	// `spare node --always-available`). Games, foreign GPU processes,
	// power and temperature rules still apply. Zero: false.
	AlwaysAvailable bool
	// WorkOnBattery allows work while on battery. Zero: false (laptops do
	// no work on battery).
	WorkOnBattery bool
	// MinCharge is the battery charge in percent below which no work runs,
	// on AC or battery. Zero: 20 %. Negative: no floor.
	MinCharge int
	// MaxTempC is the GPU temperature at which its job freezes. Zero: 83 °C.
	MaxTempC int
	// TempHysteresis is how far below MaxTempC a hot GPU must cool before
	// work resumes. Zero: 8 °C.
	TempHysteresis int
	// HotGrace is how long a job may stay frozen for heat before it is
	// ended. Zero: 2 min.
	HotGrace time.Duration
	// Schedule lists the windows in which work may run. Empty: any time.
	Schedule []Window
	// Location is the time zone of Schedule and "until tomorrow".
	// Nil: time.Local.
	Location *time.Location
	// RetryEnd is how long after asking to end a job the governor asks
	// again if the job is still listed. Zero: 30 s.
	RetryEnd time.Duration
}

// Defaults of Settings, applied to zero fields.
const (
	DefaultIdleBefore       = 5 * time.Minute
	DefaultGrace            = 10 * time.Second
	DefaultSensorSilence    = 30 * time.Second
	DefaultTelemetrySilence = 30 * time.Second
	DefaultMinCharge        = 20
	DefaultMaxTempC         = 83
	DefaultTempHysteresis   = 8
	DefaultHotGrace         = 2 * time.Minute
	DefaultRetryEnd         = 30 * time.Second
	// touch is how long after a freeze further input still counts as the
	// same touch (a mouse nudge is a burst of events, not one).
	touch = time.Second
)

// WithDefaults fills zero fields with their defaults (the Default constants).
func (s Settings) WithDefaults() Settings {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&s.IdleBefore, DefaultIdleBefore)
	def(&s.Grace, DefaultGrace)
	def(&s.SensorSilence, DefaultSensorSilence)
	def(&s.TelemetrySilence, DefaultTelemetrySilence)
	def(&s.HotGrace, DefaultHotGrace)
	def(&s.RetryEnd, DefaultRetryEnd)
	if s.MinCharge == 0 {
		s.MinCharge = DefaultMinCharge
	}
	if s.MaxTempC == 0 {
		s.MaxTempC = DefaultMaxTempC
	}
	if s.TempHysteresis == 0 {
		s.TempHysteresis = DefaultTempHysteresis
	}
	if s.Location == nil {
		s.Location = time.Local
	}
	return s
}

// Window is a daily span in which work may run, in Settings.Location.
// End before Start crosses midnight (22:00–07:00).
type Window struct {
	// Days the window starts on. Empty: every day.
	Days []time.Weekday
	// Start and End are offsets from midnight. Equal: the whole day.
	Start, End time.Duration
}

// ParseWindow reads "22:00-07:00" (every day).
func ParseWindow(s string) (Window, error) {
	var h1, m1, h2, m2 int
	if _, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil ||
		h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 {
		return Window{}, fmt.Errorf("schedule window %q: want HH:MM-HH:MM", s)
	}
	return Window{Start: time.Duration(h1)*time.Hour + time.Duration(m1)*time.Minute,
		End: time.Duration(h2)*time.Hour + time.Duration(m2)*time.Minute}, nil
}

func (w Window) onDay(d time.Weekday) bool {
	if len(w.Days) == 0 {
		return true
	}
	for _, x := range w.Days {
		if x == d {
			return true
		}
	}
	return false
}

// span returns the window's occurrence that starts on the day of midnight.
func (w Window) span(midnight time.Time) (start, end time.Time) {
	start = midnight.Add(w.Start)
	length := w.End - w.Start
	if length <= 0 {
		length += 24 * time.Hour
	}
	return start, start.Add(length)
}

// inSchedule reports whether now lies in a window and when that changes
// (zero when the schedule is empty).
func inSchedule(ws []Window, now time.Time, loc *time.Location) (in bool, change time.Time) {
	if len(ws) == 0 {
		return true, time.Time{}
	}
	now = now.In(loc)
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	var nextStart, curEnd time.Time
	for day := -1; day <= 7; day++ {
		mid := today.AddDate(0, 0, day)
		for _, w := range ws {
			if !w.onDay(mid.Weekday()) {
				continue
			}
			s, e := w.span(mid)
			if !now.Before(s) && now.Before(e) && e.After(curEnd) {
				curEnd = e
			}
			if s.After(now) && (nextStart.IsZero() || s.Before(nextStart)) {
				nextStart = s
			}
		}
	}
	if !curEnd.IsZero() {
		return true, curEnd
	}
	return false, nextStart
}

// Pause is the owner's pause command.
type Pause struct {
	// Until is when the pause ends; zero with Indefinite false: no pause.
	Until time.Time
	// Indefinite pauses until resumed.
	Indefinite bool
}

// Active reports whether the pause holds at now.
func (p Pause) Active(now time.Time) bool { return p.Indefinite || now.Before(p.Until) }

// PauseFor pauses for d from now (the tray's "1 hour").
func PauseFor(now time.Time, d time.Duration) Pause { return Pause{Until: now.Add(d)} }

// PauseUntilTomorrow pauses until 06:00 of the next morning in loc (nil:
// time.Local); before 06:00 that is the same calendar day.
func PauseUntilTomorrow(now time.Time, loc *time.Location) Pause {
	if loc == nil {
		loc = time.Local
	}
	t := now.In(loc)
	y, m, d := t.Date()
	six := time.Date(y, m, d, 6, 0, 0, 0, loc)
	if !t.Before(six) {
		six = time.Date(y, m, d+1, 6, 0, 0, 0, loc)
	}
	return Pause{Until: six}
}

// PauseUntilResumed pauses until Resume.
func PauseUntilResumed() Pause { return Pause{Indefinite: true} }
