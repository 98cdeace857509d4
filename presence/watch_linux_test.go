package presence

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// countingSensor counts idle reads of the sensor it wraps.
type countingSensor struct {
	*linuxSensor
	reads atomic.Int64
}

func (c *countingSensor) idle(ctx context.Context) (time.Duration, bool, error) {
	c.reads.Add(1)
	return c.linuxSensor.idle(ctx)
}

// TestWatchX11InputEvents runs Watch on the real X11 sensor under Xvfb
// with a 50 ms poll asked for (as while a job runs): with the idle alarm
// it reads idle time only when input arrives, and reports that input at
// once.
func TestWatchX11InputEvents(t *testing.T) {
	display := testenv.PrivateDisplay(t)
	x, err := OpenX11(display)
	if err != nil {
		t.Fatal(err)
	}
	if x.Input() == nil {
		x.Close()
		t.Fatalf("no idle alarm under Xvfb: %v", x.InputUnsupported())
	}
	s := &countingSensor{linuxSensor: &linuxSensor{x11: x}}
	reports, _ := watching(t, Options{sensor: s, Heartbeat: time.Hour, Games: Games{Disabled: true},
		Interval: func() time.Duration { return 50 * time.Millisecond }}, 16)

	<-reports // the first heartbeat
	waitIdle(t, x, inputQuiet+100*time.Millisecond)
	// Once the owner is away, nothing is read until input arrives.
	before := s.reads.Load()
	time.Sleep(time.Second) // the observed quiet period itself
	if n := s.reads.Load() - before; n != 0 {
		t.Fatalf("%d idle reads in a quiet second; want none (events, not polls)", n)
	}
	for i, dx := range []string{"5", "-5"} {
		waitIdle(t, x, inputQuiet+100*time.Millisecond)
		start := time.Now()
		testenv.Xdotool(t, display, "mousemove_relative", "--", dx, "1")
		select {
		case r := <-reports:
			if !r.IdleKnown || r.Idle >= inputQuiet {
				t.Fatalf("report after input: idle %v (known %v); want under %v", r.Idle, r.IdleKnown, inputQuiet)
			}
			t.Logf("input %d reported %v after xdotool started", i, time.Since(start).Round(time.Millisecond/10))
		case <-time.After(30 * time.Second): // an event wait; the latency is logged above
			t.Fatalf("input %d: no report within 30 s", i)
		}
	}
}
