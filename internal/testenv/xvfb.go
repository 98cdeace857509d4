package testenv

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// PrivateDisplay starts an Xvfb of the test's own and returns its display
// (":N"); it stops when the test ends. Tests that make input (xdotool) or
// change what the whole display shows use one, so that tests of other
// packages running at the same time on the run's shared display neither
// see that input nor disturb it.
func PrivateDisplay(t testing.TB) string {
	t.Helper()
	return PrivateDisplayWith(t)
}

// PrivateDisplayWith is PrivateDisplay with more Xvfb arguments (an
// extension turned off: "-extension", "MIT-SCREEN-SAVER").
func PrivateDisplayWith(t testing.TB, args ...string) string {
	t.Helper()
	bin := NeedCommand(t, "Xvfb", "xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// -displayfd: Xvfb picks a free display and writes its number.
	cmd := exec.Command(bin, append([]string{"-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"}, args...)...)
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	killAtEnd(t, cmd)
	return ":" + firstLine(t, r, "Xvfb", "its display")
}

// killAtEnd ends a test's own child process when the test ends.
func killAtEnd(t testing.TB, cmd *exec.Cmd) {
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // our own child, by its PID
		_ = cmd.Wait()
	})
}

// startupWait bounds a service's start-up (Xvfb, containerd): seconds
// on an idle machine, more on a loaded CI machine running every package's
// tests at once. Passing runs never wait it out.
const startupWait = time.Minute

// firstLine reads the first line a service just started writes to r (an
// address, a display) and closes r; it fails the test when the service
// ends or stays silent for startupWait instead.
func firstLine(t testing.TB, r io.ReadCloser, service, what string) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		r.Close()
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s == "" {
			t.Fatalf("%s exited without naming %s", service, what)
		}
		return s
	case <-time.After(startupWait):
		t.Fatalf("%s did not name %s within %s", service, what, startupWait)
	}
	return ""
}

// Xdotool runs xdotool with args against display and fails the test if it
// fails.
func Xdotool(t testing.TB, display string, args ...string) {
	t.Helper()
	bin := NeedCommand(t, "xdotool", "xdotool")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// Nudge moves the mouse on display a few pixels, to and fro with i (the
// i-th nudge of a series), so the pointer never drifts off the screen.
// A relative move always makes input, where an absolute one does nothing
// if another test on the same X server left the pointer at that spot.
func Nudge(t testing.TB, display string, i int) {
	t.Helper()
	dx := "9"
	if i%2 == 1 {
		dx = "-9"
	}
	Xdotool(t, display, "mousemove_relative", "--", dx, "3")
}
