package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/atomicfile"
)

// OnSettingsTaken has a (before Start) call f, on the UI thread, each
// time it took in settings another process saved (package app_test).
func OnSettingsTaken(a *App, f func(Settings)) { a.onSettings = f }

// SettingsTray is settingsTray for TestMain (package app_test).
var SettingsTray = settingsTray

// settingsTray is the tray process's side of the settings file, in a
// child process: it follows the file as RunTray does and prints what it
// took in ("took …", with whether it would still tell the first
// earnings), and changes the file as its stdin says:
//
//	claim         claims the first earnings (as the tray does)
//	write TEXT    replaces the file with TEXT, as a hostile writer would
//	big           replaces it with a file far over the size bound
//	decline KEY   saves WSLDeclined = KEY through UpdateSettings
//
// printing "done CMD" after each.
func settingsTray(dir string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	known, err := LoadSettings(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	t := &trayProc{cfg: TrayConfig{DataDir: dir}, log: log, seenPay: known.FirstEarningsShown}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- followSettings(ctx, dir, known, log, func(s Settings) {
			t.takeSettings(s)
			t.mu.Lock()
			seen := t.seenPay
			t.mu.Unlock()
			say("took onboarded=%t first_earnings_shown=%t declined=%q would_tell_first_earnings=%t",
				s.Onboarded, s.FirstEarningsShown, s.WSLDeclined, !seen)
		})
	}()
	say("ready")
	p := filepath.Join(dir, SettingsFile)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		var err error
		switch cmd {
		case "claim":
			_, err = claimFirstEarnings(dir)
		case "write":
			err = atomicfile.Write(p, []byte(arg), 0o600)
		case "big":
			err = atomicfile.Write(p, []byte(`{"onboarded": true, "pad": "`+strings.Repeat("x", 2*maxSettingsBytes)+`"}`), 0o600)
		case "decline":
			_, err = UpdateSettings(dir, func(s *Settings) { s.WSLDeclined = arg })
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, cmd+":", err)
			cancel()
			return 1
		}
		say("done %s", cmd)
	}
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestFollowSettingsPolled: where the system cannot tell the file's
// changes, the file is looked at again and a change reaches apply; a
// broken file is ignored and the last good settings kept.
func TestFollowSettingsPolled(t *testing.T) {
	dir := t.TempDir()
	warned := make(chan string, 16)
	log := slog.New(slog.NewTextHandler(lineWriter(func(l string) { warned <- l }), nil))
	took := make(chan Settings, 16)
	f := &settingsFollower{dir: dir, log: log, apply: func(s Settings) { took <- s }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pollFiles(ctx, dir, 10*time.Millisecond, map[string]func(){SettingsFile: f.reload}) }()
	defer func() { cancel(); <-done }()

	if _, err := UpdateSettings(dir, func(s *Settings) { s.Onboarded = true }); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, took, "the settings"); !s.Onboarded {
		t.Fatalf("took %+v, want onboarded", s)
	}
	if err := atomicfile.Write(filepath.Join(dir, SettingsFile), []byte(`{"wsl": {"processors": -4}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if l := recv(t, warned, "a warning"); !strings.Contains(l, "wsl.processors -4") {
		t.Fatalf("warned %q, want the field named", l)
	}
	if _, err := UpdateSettings(dir, func(s *Settings) { s.FirstEarningsShown = true }); err != nil {
		t.Fatal(err)
	}
	// The broken file was replaced: onboarding's mark went with it.
	if s := recv(t, took, "the settings"); s != (Settings{FirstEarningsShown: true}) {
		t.Fatalf("took %+v after the broken file, want only the first earnings told", s)
	}
}

// TestUpdateSettingsEmpties: a value emptied is saved empty, not left as
// the file had it (the fields are omitempty).
func TestUpdateSettingsEmpties(t *testing.T) {
	dir := t.TempDir()
	if _, err := UpdateSettings(dir, func(s *Settings) { s.WSLDeclined = "8192MB/4" }); err != nil {
		t.Fatal(err)
	}
	if _, err := UpdateSettings(dir, func(s *Settings) { s.WSLDeclined = "" }); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadSettings(dir); err != nil || s.WSLDeclined != "" {
		t.Fatalf("settings %+v, %v: want the declined limits emptied", s, err)
	}
}

// recv waits for what ch carries; the deadline only bounds a failure.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
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

// lineWriter calls f with each line written.
type lineWriter func(string)

func (w lineWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w(l)
	}
	return len(b), nil
}

var _ io.Writer = lineWriter(nil)
