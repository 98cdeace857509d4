package presence

import (
	"os/exec"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

func TestX11IdleAndInput(t *testing.T) {
	display := testenv.Display(t)
	xdotool := testenv.NeedCommand(t, "xdotool", "xdotool")
	x, err := OpenX11(display)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if out, err := exec.Command(xdotool, "mousemove", "10", "10").CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v: %s", err, out)
	}
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
	if out, err := exec.Command(xdotool, "mousemove", "200", "150").CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v: %s", err, out)
	}
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
