package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sparegpu/spare/assets"
	"github.com/sparegpu/spare/localapi"
)

// Setup is work done once before the daemon can be reached: on Windows,
// importing Spare's WSL distribution on first run (`wsl --import`, a
// minute or more). The window shows Doing, and how long it has taken,
// meanwhile; a failure is shown as its problem and fix, with Try again,
// and the app does not try to start the daemon until a try succeeds.
// Config.Setup; nil: none.
type Setup struct {
	// Needed reports, quickly, whether Run has work to do.
	Needed func(ctx context.Context) (bool, error)
	// Doing is the sentence shown while Run works.
	Doing string
	// Run does the work. A HostProblem among its errors is shown as
	// such; any other error as itself, with FixSetup.
	Run func(ctx context.Context) error
}

// StateSettingUp is the view's state while Setup runs.
const StateSettingUp localapi.State = "Setting up"

// FixSetup is the fix shown for a setup failure that names none.
const FixSetup = "Run wsl --update in PowerShell as administrator, then choose Try again; if it fails again, reinstall Spare."

// settingUp is the app's connection state while Setup runs: Derive
// shows it instead of "not connected".
type settingUp struct {
	doing string
	since time.Time
}

func (s *settingUp) Error() string { return s.doing }

// setupFailed is the connection state after Setup failed.
type setupFailed struct{ HostProblem }

func (s *setupFailed) Error() string { return s.Problem + " " + s.Fix }

// Error makes a HostProblem an error (Setup.Run returns one).
func (p HostProblem) Error() string { return p.Problem + " " + p.Fix }

// setupView is Derive's view while Setup runs or after it failed; ok
// is false for any other connection error.
func setupView(v View, connErr error, now time.Time) (View, bool) {
	var up *settingUp
	var failed *setupFailed
	switch {
	case errors.As(connErr, &up):
		v.Icon, v.State = assets.Waiting, StateSettingUp
		v.Sentence, v.Brief = up.doing, "Setting up"
		v.Next = fmt.Sprintf("First run only: this takes a minute or two. %s so far; Spare starts when it is done.", elapsed(now.Sub(up.since)))
	case errors.As(connErr, &failed):
		v.Icon, v.State = assets.Problem, StateDisconnected
		v.Sentence, v.Brief, v.Next = failed.Problem, "Spare is not set up", failed.Fix
		v.CanRetry = true
	default:
		return v, false
	}
	v.EarnedToday = orDash(v.EarnedToday)
	return v, true
}

// elapsed is a duration as people say it: "12 seconds", "2 min 05 s".
func elapsed(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s < 60 {
		return fmt.Sprintf("%d second%s", s, pluralS(s))
	}
	return fmt.Sprintf("%d min %02d s", s/60, s%60)
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// LabelTryAgain is the button that runs a failed setup again.
const LabelTryAgain = "Try again"

// setUpOnce runs Config.Setup until it succeeds: after a failure the
// window shows why, with Try again, and the next try waits for that
// click (the owner fixes the cause first: frees disk space, turns on
// virtualisation). It returns false when ctx ends first.
func (a *App) setUpOnce(ctx context.Context) bool {
	for {
		select { // a click that came while a try ran is no request for another
		case <-a.retry:
		default:
		}
		if a.runSetup(ctx) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-a.retry:
			a.log.Info("trying the setup again, as asked")
		}
	}
}

// tryAgain is Try again: it asks setUpOnce for another try.
func (a *App) tryAgain() {
	select {
	case a.retry <- struct{}{}:
	default: // one asked for already
	}
}

// runSetup runs Config.Setup when it is needed, redrawing the window
// each second meanwhile. It returns false when setup failed: the window
// then shows why, and the daemon is not tried.
func (a *App) runSetup(ctx context.Context) bool {
	s := a.cfg.Setup
	if s == nil {
		return true
	}
	needed, err := s.Needed(ctx)
	if err == nil && !needed {
		return true
	}
	if err == nil {
		a.mu.Lock()
		a.connErr = &settingUp{doing: s.Doing, since: time.Now()}
		a.mu.Unlock()
		a.publish()
		a.log.Info("setting up", "doing", s.Doing)
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }() // owned here: waited for below
		tick := time.NewTicker(time.Second)
	wait:
		for {
			select {
			case err = <-done:
				break wait
			case <-tick.C:
				a.publish()
			}
		}
		tick.Stop()
	}
	if err == nil {
		a.log.Info("set up")
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	a.log.Error("setting up", "err", err)
	var p HostProblem
	if !errors.As(err, &p) {
		p = HostProblem{Problem: "Spare could not set up its Linux distribution: " + err.Error(), Fix: FixSetup}
	}
	a.mu.Lock()
	a.connErr = &setupFailed{p}
	a.mu.Unlock()
	a.publish()
	return false
}
