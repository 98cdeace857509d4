//go:build linux

package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
)

// TestFirstRunSetup: on first run the window says what is being set up
// and how long it has taken, redrawn while it runs; once done, the app
// goes on to reach the daemon (none here: "not connected").
func TestFirstRunSetup(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	var runs atomic.Int32
	setup := &app.Setup{
		Needed: func(context.Context) (bool, error) { return true, nil },
		Doing:  app.ImportDoing,
		Run: func(ctx context.Context) error {
			runs.Add(1)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	a := startApp(t, app.Config{DataDir: dir, Client: localapi.NewClient(dir), Session: &app.SessionInfo{Bus: true}, Setup: setup})
	waitSentence(t, a, app.ImportDoing)
	waitMarkup(t, a, "1 second so far") // redrawn as time passes
	if tryAgainShown(a) {
		t.Error("Try again is offered while the setup runs")
	}
	close(release)
	waitSentence(t, a, "Not connected to the Spare daemon")
	if n := runs.Load(); n != 1 {
		t.Fatalf("setup ran %d times, want once", n)
	}
}

// TestFirstRunSetupFails: a failed setup is its problem and fix, and the
// app does not start a daemon it cannot have.
func TestFirstRunSetupFails(t *testing.T) {
	dir := goldenDir(t)
	started := filepath.Join(t.TempDir(), "daemon-started")
	disk := app.HostProblem{Problem: `There is not enough free disk space to set up Spare's Linux environment (about 1 GB, on the drive of C:\Users\u\AppData\Local\Spare\wsl).`,
		Fix: "Free some space on that drive, then choose Try again."}
	setup := &app.Setup{
		Needed: func(context.Context) (bool, error) { return true, nil },
		Doing:  app.ImportDoing,
		Run:    func(context.Context) error { return disk },
	}
	a := startApp(t, app.Config{DataDir: dir, Client: localapi.NewClient(dir), Session: &app.SessionInfo{Bus: true},
		Setup: setup, DaemonCommand: []string{"touch", started}})
	waitSentence(t, a, disk.Problem)
	waitMarkup(t, a, disk.Fix)
	shootThemes(t, a, "setup_failed")
	// The daemon is only ever started after setup succeeded (followDaemon
	// returns once runSetup fails, before any start), so none ran.
	if _, err := os.Stat(started); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the daemon command ran after a failed setup (%v)", err)
	}

	// An error that is no HostProblem is said as it is, with the fix to
	// update WSL.
	other := &app.Setup{
		Needed: func(context.Context) (bool, error) { return true, nil },
		Doing:  app.ImportDoing,
		Run:    func(context.Context) error { return errors.New("the image is damaged") },
	}
	b := startApp(t, app.Config{DataDir: t.TempDir(), Client: localapi.NewClient(dir), Session: &app.SessionInfo{Bus: true}, Setup: other})
	waitSentence(t, b, "Spare could not set up its Linux distribution: the image is damaged")
	waitMarkup(t, b, "wsl --update")
}

// tryAgainShown reports whether the window offers Try again.
func tryAgainShown(a *app.App) bool {
	shown := false
	a.Inspect(func() {
		for _, o := range visible(a.UI().Window().Canvas().Content(), nil) {
			if b, ok := o.(*widget.Button); ok && b.Text == app.LabelTryAgain {
				shown = true
			}
		}
	})
	return shown
}

// TestFirstRunSetupTryAgain: after a failed setup the window offers Try
// again, and nothing is tried until it is clicked; the click runs the
// setup again (asking first whether it is still needed), and once that
// succeeds the app goes on to the daemon, which it may now start.
func TestFirstRunSetupTryAgain(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(t.TempDir(), "daemon-started")
	disk := app.HostProblem{Problem: "There is not enough free disk space to set up Spare's Linux environment.",
		Fix: "Free some space on that drive, then choose Try again."}
	var needed, runs atomic.Int32
	setup := &app.Setup{
		Needed: func(context.Context) (bool, error) { needed.Add(1); return true, nil },
		Doing:  app.ImportDoing,
		Run: func(context.Context) error {
			if runs.Add(1) == 1 {
				return disk // the first try fails; the owner frees space
			}
			return nil
		},
	}
	a := startApp(t, app.Config{DataDir: dir, Client: localapi.NewClient(dir), Session: &app.SessionInfo{Bus: true},
		Setup: setup, DaemonCommand: []string{"touch", started}})
	waitSentence(t, a, disk.Problem)
	var retry *widget.Button
	a.Inspect(func() { retry = button(t, a, app.LabelTryAgain) })
	if n := runs.Load(); n != 1 {
		t.Fatalf("setup ran %d times before Try again, want once", n)
	}
	if _, err := os.Stat(started); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the daemon command ran after a failed setup (%v)", err)
	}

	a.Inspect(func() { test.Tap(retry) })
	waitSentence(t, a, "Not connected to the Spare daemon")
	if tryAgainShown(a) {
		t.Error("Try again is still offered after the setup succeeded")
	}
	if n, m := runs.Load(), needed.Load(); n != 2 || m != 2 {
		t.Fatalf("after one Try again setup ran %d times and was checked %d times, want twice each", n, m)
	}
	// Set up, the app reaches for the daemon and, none answering, starts one.
	testenv.WaitFor(t, "the daemon command to run after the setup succeeded", 10*time.Second, func() error {
		_, err := os.Stat(started)
		return err
	})
}

// TestSetupNotNeeded: with the distribution there, nothing is run.
func TestSetupNotNeeded(t *testing.T) {
	dir := t.TempDir()
	setup := &app.Setup{
		Needed: func(context.Context) (bool, error) { return false, nil },
		Doing:  app.ImportDoing,
		Run:    func(context.Context) error { t.Error("setup ran although not needed"); return nil },
	}
	a := startApp(t, app.Config{DataDir: dir, Client: localapi.NewClient(dir), Session: &app.SessionInfo{Bus: true}, Setup: setup})
	waitSentence(t, a, "Not connected to the Spare daemon")
}
