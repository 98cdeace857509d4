package presence

import (
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

func TestX11IdleAndInput(t *testing.T) {
	display := testenv.PrivateDisplay(t)
	x, err := OpenX11(display)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	testenv.Xdotool(t, display, "mousemove", "10", "10")
	before, err := x.Idle()
	if err != nil {
		t.Fatal(err)
	}
	if before > 5*time.Second {
		t.Fatalf("idle %v right after input", before)
	}
	// Wait (polling with a deadline) until idle has grown, then move the mouse.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := x.Idle()
		if err != nil {
			t.Fatal(err)
		}
		if d >= 300*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("idle stuck at %v", d)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not synchronisation
	}
	testenv.Xdotool(t, display, "mousemove", "200", "150")
	after, err := x.Idle()
	if err != nil {
		t.Fatal(err)
	}
	if after >= 300*time.Millisecond {
		t.Fatalf("idle after input = %v, want it reset", after)
	}
	name, _, err := x.Fullscreen()
	if err != nil || name != "" {
		t.Fatalf("Fullscreen without a window manager = %q, %v", name, err)
	}
}

// TestX11InputAlarm checks the SYNC IDLETIME alarm under Xvfb: it exists,
// fires when xdotool input follows a quiet second, stays armed for the
// next input, and stays silent while input continues.
func TestX11InputAlarm(t *testing.T) {
	display := testenv.PrivateDisplay(t)
	x, err := OpenX11(display)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	in := x.Input()
	if in == nil {
		t.Fatalf("no idle alarm under Xvfb: %v", x.InputUnsupported())
	}
	for i, dx := range []string{"7", "-7", "7"} {
		waitIdle(t, x, inputQuiet+100*time.Millisecond)
		drain(in)
		start := time.Now()
		testenv.Xdotool(t, display, "mousemove_relative", "--", dx, "2")
		select {
		case <-in:
			t.Logf("input %d: alarm %v after xdotool started", i, time.Since(start).Round(time.Millisecond/10))
		case <-time.After(30 * time.Second): // an event wait; the latency is logged above
			d, _ := x.Idle()
			t.Fatalf("input %d: no alarm within 30 s (idle now %v)", i, d)
		}
		if d, err := x.Idle(); err != nil || d >= inputQuiet {
			t.Fatalf("idle after the alarm = %v, %v; want it reset", d, err)
		}
	}
	// Input that continues within the quiet second is not an event: the
	// second nudge follows the first at once.
	drain(in)
	for _, dx := range []string{"-7", "7"} {
		testenv.Xdotool(t, display, "mousemove_relative", "--", dx, "2")
	}
	if d, err := x.Idle(); err != nil || d >= inputQuiet/2 {
		t.Fatalf("the nudges came %v apart; the check needs them within %v", d, inputQuiet/2)
	}
	// The first nudge followed at most a moment of quiet, so neither fires.
	waitIdle(t, x, inputQuiet/2)
	select {
	case <-in:
		t.Fatal("the alarm fired for input that continued within the quiet second")
	default:
	}
}

func waitIdle(t *testing.T, x *X11, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		idle, err := x.Idle()
		if err != nil {
			t.Fatal(err)
		}
		if idle >= d {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("idle stuck at %v, want %v", idle, d)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not synchronisation
	}
}

func drain(c <-chan struct{}) {
	select {
	case <-c:
	default:
	}
}
