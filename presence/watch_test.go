package presence

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// watching runs Watch with opts, sending every report into a channel of
// buf, until stop (or the test's end) cancels it and waits for it.
func watching(t *testing.T, opts Options, buf int) (reports <-chan Report, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan Report, buf)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := Watch(ctx, opts, func(r Report) { ch <- r }); err != nil {
			t.Error(err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return ch, stop
}

// stallSensor stands in for a backend under load: its idle reply takes
// idleDelay and says input came just before it, and its session reading
// blocks until released. (A loaded machine cannot be made to stall on
// cue; the rest of Watch runs for real.)
type stallSensor struct {
	idleDelay time.Duration
	release   chan struct{}
	events    chan struct{}

	mu         sync.Mutex
	replied    []time.Time
	sessionsIn int
}

func (s *stallSensor) idle(ctx context.Context) (time.Duration, bool, error) {
	time.Sleep(s.idleDelay) // the stalled round trip
	s.mu.Lock()
	s.replied = append(s.replied, time.Now())
	s.mu.Unlock()
	return 0, true, nil
}

func (s *stallSensor) session(ctx context.Context) (sessionInfo, error) {
	s.mu.Lock()
	s.sessionsIn++
	n := s.sessionsIn
	s.mu.Unlock()
	if n > 1 { // the first heartbeat answers; the next hangs like a stuck D-Bus call
		select {
		case <-s.release:
		case <-ctx.Done():
		}
	}
	return sessionInfo{}, nil
}

func (s *stallSensor) input() <-chan struct{} { return s.events }
func (s *stallSensor) name() string           { return "stall" }
func (s *stallSensor) close() error           { return nil }

// TestWatchUnderStalls checks the two ways a loaded machine made the
// governor miss input: a reading dated before a slow idle round trip
// placed the input too early (so it looked older than IdleBefore), and a
// slow heartbeat reading (process scan, D-Bus) held up the input path.
func TestWatchUnderStalls(t *testing.T) {
	s := &stallSensor{idleDelay: 200 * time.Millisecond, release: make(chan struct{}), events: make(chan struct{}, 1)}
	reports, stop := watching(t, Options{sensor: s, Heartbeat: 50 * time.Millisecond, Games: Games{Disabled: true},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 16)
	defer func() { close(s.release); stop() }()

	first := <-reports
	s.mu.Lock()
	replied := s.replied[0]
	s.mu.Unlock()
	if first.LastInput().Before(replied) {
		t.Fatalf("the input is placed %v before the reply that reported it (a %v round trip)",
			replied.Sub(first.LastInput()), s.idleDelay)
	}
	// Wait until the second heartbeat hangs, then signal input.
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := s.sessionsIn
		s.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second heartbeat never started")
		}
		time.Sleep(10 * time.Millisecond) // poll interval, not synchronisation
	}
	for len(reports) > 0 {
		<-reports
	}
	start := time.Now()
	s.events <- struct{}{}
	select {
	case r := <-reports:
		if !r.IdleKnown || r.Idle != 0 {
			t.Fatalf("report after input: %+v", r)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("the input report took %v", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a hung heartbeat reading held up the input report")
	}
}

// scriptSensor is an owner whose inputs come at set moments: idle time
// is read off the script against the real clock, like a server's counter.
type scriptSensor struct{ inputs []time.Time }

func (s *scriptSensor) idle(context.Context) (time.Duration, bool, error) {
	now := time.Now()
	last := time.Time{}
	for _, t := range s.inputs {
		if !t.After(now) {
			last = t
		}
	}
	if last.IsZero() {
		return time.Hour, true, nil
	}
	return now.Sub(last).Truncate(time.Millisecond), true, nil
}
func (s *scriptSensor) session(context.Context) (sessionInfo, error) { return sessionInfo{}, nil }
func (s *scriptSensor) name() string                                 { return "script" }
func (s *scriptSensor) close() error                                 { return nil }

// TestWatchNeverDropsInput replays what made the X11 give-back test miss
// a nudge now and then: input 0.9 s after a reported input fell inside
// the once-a-second limit and was never reported (the next poll saw no
// new input), and input 1.02 s after one was held back because the poll
// before it saw 0.99 s of idle time. Now the first is reported when the
// limit ends and the second at once, as the governor (which may have
// taken the owner for gone after a second) needs.
func TestWatchNeverDropsInput(t *testing.T) {
	base := time.Now().Add(300 * time.Millisecond)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	s := &scriptSensor{inputs: []time.Time{at(0), at(900 * time.Millisecond), at(3 * time.Second), at(4020 * time.Millisecond)}}
	reports, _ := watching(t, Options{sensor: s, Heartbeat: time.Hour, Games: Games{Disabled: true},
		Interval: func() time.Duration { return 50 * time.Millisecond },
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil))}, 64)
	<-reports // the first heartbeat

	// reportedBy waits for a report placing the last input at or after in.
	reportedBy := func(in time.Time, within time.Duration) {
		t.Helper()
		deadline := time.After(time.Until(in.Add(within)))
		for {
			select {
			case r := <-reports:
				if !r.LastInput().Before(in.Add(-2 * time.Millisecond)) {
					t.Logf("input at +%v reported %v later", in.Sub(base), r.At.Sub(in).Round(time.Millisecond))
					return
				}
			case <-deadline:
				t.Fatalf("input at +%v not reported within %v", in.Sub(base), within)
			}
		}
	}
	slack := 400 * time.Millisecond // a loaded machine's scheduling, on top of the 50 ms poll
	reportedBy(s.inputs[0], slack)
	reportedBy(s.inputs[1], rearm+slack) // held back by the limit, then sent
	reportedBy(s.inputs[2], slack)
	reportedBy(s.inputs[3], slack) // 1.02 s after the last reported input: at once
}
