package presence

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// sensor is one system's way of reading presence. Backends live in the
// per-OS files; newSensor picks what the system offers. Watch calls idle
// and session from different goroutines.
type sensor interface {
	// idle returns the time since the last input; ok is false when the
	// backend cannot tell. It must be cheap: it runs on every input event
	// or poll.
	idle(ctx context.Context) (d time.Duration, ok bool, err error)
	// session returns slower facts (lock, suspend, fullscreen window).
	session(ctx context.Context) (sessionInfo, error)
	name() string
	close() error
}

type sessionInfo struct {
	locked, sleeping bool
	fullscreen       string // title of a fullscreen window, "" when none
	fullscreenPID    uint32
}

// Options configure Watch. The zero value works.
type Options struct {
	// Display is the X display for the X11 backend. Empty: $DISPLAY.
	Display string
	// Interval returns how long to wait before the next idle poll where
	// the backend sends no input events; the governor's PollInterval
	// fits. Nil: one second.
	Interval func() time.Duration
	// Wake, when set, makes the sensor look at once instead of finishing
	// its current wait: the governor pokes it when a job starts, so the
	// fast poll begins now and not after the slow poll's wait.
	Wake <-chan struct{}
	// Heartbeat is how often a report is sent even when nothing changes,
	// and how often lock state, fullscreen windows, games and power are
	// read. Zero: 5 s.
	Heartbeat time.Duration
	// Games configures game detection.
	Games Games
	// OnPower receives the power reading every heartbeat. Nil: not read.
	OnPower func(Power)
	// Logger for warnings. Nil: slog.Default().
	Logger *slog.Logger
	// PowerRoot is the sysfs power_supply directory (tests). Empty: the system's.
	PowerRoot string
	// PollOnly ignores the backend's input events and polls at Interval,
	// as on a system without them (for comparisons, and as a way out
	// should a server's idle alarm misbehave).
	PollOnly bool

	sensor sensor // tests inject a backend
}

// inputNotifier is implemented by sensors that learn of returning input
// from an event instead of a poll.
type inputNotifier interface {
	// input delivers a value when input arrives after at least rearm
	// without any; nil when the backend cannot tell (then Watch polls).
	input() <-chan struct{}
}

// rearm is how long after the previous input report a new one is sent
// while input continues: the governor needs to see "still here" within
// its grace, not every event.
const rearm = time.Second

// Probe opens the sensor Watch would open and closes it again: nil when
// this session's presence can be watched, ErrUnsupported (wrapped, with
// the reasons) when Watch would return it. A process that shows the
// session's state beside the one that watches (the app's window beside
// its tray process) tells the owner the same thing with it.
func Probe(ctx context.Context, opts Options) error {
	s, err := newSensor(ctx, opts)
	if err != nil {
		return err
	}
	return s.close()
}

// Watch follows the system's presence backend until ctx ends and calls
// emit with each report: at once when input comes a quiet second after
// the last input reported, at most once a second while input continues
// (input held back by that limit is sent when it ends, never dropped),
// and every heartbeat. It returns ErrUnsupported (wrapped) when no
// backend works here.
//
// Where the backend reports returning input as an event (X11 with the
// SYNC extension), Watch reads idle time only then, once a second while
// input continues, and every heartbeat; otherwise it polls at
// opts.Interval. The heartbeat's slower readings (lock, fullscreen
// window, games, power) run on a goroutine of their own, so a process
// scan or a slow D-Bus answer never delays reporting input.
func Watch(ctx context.Context, opts Options, emit func(Report)) error {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 5 * time.Second
	}
	if opts.Interval == nil {
		opts.Interval = func() time.Duration { return time.Second }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Games.list == nil {
		opts.Games.list = newProcLister()
	}
	log := opts.Logger.With("component", "presence")
	s := opts.sensor
	if s == nil {
		var err error
		if s, err = newSensor(ctx, opts); err != nil {
			return err
		}
	}
	defer s.close()
	var inputs <-chan struct{}
	if n, ok := s.(inputNotifier); ok && !opts.PollOnly {
		inputs = n.input()
	}
	log.Info("presence backend", "backend", s.name(), "input_events", inputs != nil)

	ctx, cancel := context.WithCancel(ctx)
	beats := make(chan slowReading, 1)
	done := make(chan struct{})
	go func() { defer close(done); readSlowly(ctx, s, opts, log, beats) }()
	defer func() { cancel(); <-done }()

	var (
		slow      slowReading
		lastEmit  time.Time
		lastInput time.Time // the latest input seen
		reported  time.Time // the latest input the governor was told of
		pending   bool      // input seen and not yet reported
		timer     = time.NewTimer(opts.Interval())
	)
	if inputs != nil {
		timer.Stop() // until input continues (or the heartbeat)
	}
	defer timer.Stop()
	for {
		event, beat := false, false
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-inputs:
			event = true
		case slow = <-beats:
			beat = true
		case <-opts.Wake:
		}
		timer.Stop()
		before := time.Now()
		d, ok, err := s.idle(ctx)
		// The reading is dated when it arrived: the last input is then
		// never placed earlier than it was, whatever the round trip.
		now := time.Now()
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			log.Warn("reading idle time", "err", err)
			ok = false
		}
		quiet := false
		if ok {
			// Input happened when the last-input moment moved forward
			// (allowing for millisecond rounding and the round trip), or
			// when the backend says so: its event means input after a
			// quiet second. It is urgent when the governor's latest news
			// of input is a second older: the governor may have taken the
			// owner for gone since (with IdleBefore that short).
			li := now.Add(-d)
			if event || li.After(lastInput.Add(5*time.Millisecond+now.Sub(before))) {
				lastInput, pending = li, true
			}
			quiet = event || lastInput.Sub(reported) >= rearm
		}
		if beat || (pending && (quiet || now.Sub(lastEmit) >= rearm)) {
			lastEmit, pending = now, false
			if ok {
				reported = now.Add(-d)
			}
			emit(Report{At: now, Idle: d, IdleKnown: ok, Locked: slow.sess.locked, Sleeping: slow.sess.sleeping,
				Game: slow.game, GamePIDs: slow.gamePIDs, Source: s.name()})
		}
		next := time.Duration(-1) // none: wait for an event or the heartbeat
		switch {
		case inputs == nil || !ok:
			next = opts.Interval()
		case d < rearm:
			// Input continues: look again in a second. Input after a
			// quiet second comes as an event.
			next = rearm
		}
		if pending {
			// Held back by the once-a-second limit: send it when that ends.
			if due := lastEmit.Add(rearm).Sub(now); next < 0 || due < next {
				next = due
			}
		}
		if next >= 0 {
			timer.Reset(next)
		}
	}
}

// slowReading is what the heartbeat reads.
type slowReading struct {
	sess     sessionInfo
	game     string
	gamePIDs []uint32
}

// readSlowly reads session state, games and power at once and then every
// heartbeat until ctx ends, and hands each reading to out (replacing one
// not yet taken).
func readSlowly(ctx context.Context, s sensor, opts Options, log *slog.Logger, out chan slowReading) {
	t := time.NewTicker(opts.Heartbeat)
	defer t.Stop()
	var r slowReading
	for {
		if si, err := s.session(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("reading session state", "err", err)
		} else {
			r.sess = si
		}
		r.game, r.gamePIDs = opts.Games.find(ctx, log)
		if r.game == "" && r.sess.fullscreen != "" {
			r.game, r.gamePIDs = r.sess.fullscreen, nil
			if r.sess.fullscreenPID != 0 {
				r.gamePIDs = []uint32{r.sess.fullscreenPID}
			}
		}
		if opts.OnPower != nil {
			p, err := readPower(opts.PowerRoot)
			if err != nil {
				log.Warn("reading power", "err", err)
			}
			p.At = time.Now()
			opts.OnPower(p)
		}
		select {
		case <-out: // a reading Watch has not taken yet: replace it
		default:
		}
		out <- r
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
