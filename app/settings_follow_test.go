//go:build linux

package app_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/localapi"
)

// TestSettingsFollowed: two window instances of the app in this process
// and a tray process (a child following the file as RunTray does) share
// one data directory. A change any of them saves reaches the others
// without a restart: onboarding finished in one window leaves the other's
// onboarding; the first earnings claimed by the tray are not told by the
// windows. A broken, out-of-range or oversized file is ignored with a
// warning naming what is wrong, and the last good settings stay: what
// was marked done stays done once a later save starts the file afresh.
func TestSettingsFollowed(t *testing.T) {
	dir := t.TempDir()
	tray := startSettingsTray(t, dir)
	tray.expect(t, "ready")

	warned := make(chan string, 256)
	log := slog.New(slog.NewTextHandler(lineFunc(func(l string) {
		if strings.Contains(l, "ignoring the settings file") {
			warned <- l
		}
	}), &slog.HandlerOptions{Level: slog.LevelWarn}))
	warnedOf := func(what, says string) {
		t.Helper()
		for !strings.Contains(recvWithin(t, warned, "a warning for "+what), says) {
		}
	}
	doctor := func(context.Context) []app.Check {
		return []app.Check{{Name: "containerd", Required: true, OK: true, Detail: "containerd 2.0.0"}}
	}
	fy := test.NewTempApp(t)
	start := func(l *slog.Logger) (*app.App, chan app.Settings) {
		a := app.New(fy, app.Config{DataDir: dir, Client: localapi.NewClient(dir), Doctor: doctor,
			Session: &app.SessionInfo{Bus: true, TrayHost: true}, Log: l})
		took := make(chan app.Settings, 64)
		app.OnSettingsTaken(a, func(s app.Settings) { took <- s })
		ctx, cancel := context.WithCancel(context.Background())
		a.Start(ctx)
		t.Cleanup(func() { cancel(); a.Stop() })
		waitMarkup(t, a, "Ready to earn")
		return a, took
	}
	one, took1 := start(log)
	two, took2 := start(slog.New(slog.NewTextHandler(io.Discard, nil)))

	// Continue in one window: the other leaves its onboarding, the tray takes it.
	one.Inspect(func() { test.Tap(button(t, one, "Continue")) })
	waitTaken(t, took2, "onboarding done", func(s app.Settings) bool { return s.Onboarded })
	waitMarkup(t, two, "Earnings") // the tabs
	tray.expect(t, `took onboarded=true first_earnings_shown=false declined="" would_tell_first_earnings=true`)

	// The tray tells the first earnings: neither window tells them again.
	tray.send(t, "claim")
	tray.expect(t, `took onboarded=true first_earnings_shown=true declined="" would_tell_first_earnings=false`)
	for _, took := range []chan app.Settings{took1, took2} {
		waitTaken(t, took, "the first earnings told", func(s app.Settings) bool { return s.FirstEarningsShown })
	}

	// Hostile files: each ignored, with what is wrong named.
	for _, h := range []struct{ cmd, says string }{
		{`write {"onboarded": false, "first_earnings`, "unexpected end of JSON input"},
		{`write {"onboarded": false, "wsl": {"memory_gb": -1}}`, "wsl.memory_gb -1"},
		{`write {"onboarded": "yes"}`, "cannot unmarshal string"},
		{"big", "more than 64 KiB"},
	} {
		tray.send(t, h.cmd)
		warnedOf(h.cmd, h.says)
	}
	// A save over the oversized file starts it afresh; the windows keep
	// what they marked done, and the tray still does not tell the first
	// earnings. The first settings window one takes after the hostile
	// files are these: none of theirs was taken.
	tray.send(t, "decline 8192MB/4")
	tray.expect(t, `took onboarded=false first_earnings_shown=false declined="8192MB/4" would_tell_first_earnings=false`)
	want := app.Settings{Onboarded: true, FirstEarningsShown: true, WSLDeclined: "8192MB/4"}
	if got := recvWithin(t, took1, "the settings after the hostile files"); got != want {
		t.Fatalf("window one took %+v, want %+v", got, want)
	}
	waitTaken(t, took2, "the declined limits", func(s app.Settings) bool { return s == want })
}

// settingsTray is the child process playing the tray (app.SettingsTray).
type settingsTray struct {
	in    io.WriteCloser
	lines chan string
	// pending are lines printed but not yet expected, in order.
	pending []string
}

func startSettingsTray(t *testing.T, dir string) *settingsTray {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SPARE_HELPER_SETTINGS_TRAY="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st := &settingsTray{in: in, lines: make(chan string, 64)}
	go func() { // owned by the child: ends at its stdout's end
		defer close(st.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			st.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		in.Close()
		for range st.lines {
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("the tray process: %v", err)
		}
	})
	return st
}

func (st *settingsTray) send(t *testing.T, cmd string) {
	t.Helper()
	if _, err := io.WriteString(st.in, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
	verb, _, _ := strings.Cut(cmd, " ")
	st.expect(t, "done "+verb)
}

// expect waits for the tray process to print line (or finds it printed
// before); the lines printed before it stay for later expects.
func (st *settingsTray) expect(t *testing.T, line string) {
	t.Helper()
	if i := slices.Index(st.pending, line); i >= 0 {
		st.pending = slices.Delete(st.pending, i, i+1)
		return
	}
	for {
		select {
		case l, ok := <-st.lines:
			if !ok {
				t.Fatalf("the tray process ended before printing %q; it printed %q", line, st.pending)
			}
			if l == line {
				return
			}
			st.pending = append(st.pending, l)
		case <-time.After(20 * time.Second):
			t.Fatalf("the tray process did not print %q in 20 s; it printed %q", line, st.pending)
		}
	}
}

// waitTaken waits for settings that ok accepts.
func waitTaken(t *testing.T, took chan app.Settings, what string, ok func(app.Settings) bool) {
	t.Helper()
	for !ok(recvWithin(t, took, what)) {
	}
}

// recvWithin waits for what ch carries; the deadline only bounds a failure.
func recvWithin[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s in 20 s", what)
	}
	var zero T
	return zero
}

// lineFunc calls f with each line written (a log handler's output).
type lineFunc func(string)

func (f lineFunc) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		f(l)
	}
	return len(b), nil
}
