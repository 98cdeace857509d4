//go:build cgo

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	fyneapp "fyne.io/fyne/v2/app"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/autostart"
	"github.com/sparegpu/spare/doctor"
)

// appID is the desktop app's identity (preferences, notifications).
const appID = "io.sparegpu.spare"

// runApp opens the desktop app: `spare` with no arguments.
func runApp(cmd *cobra.Command, g *globals) error {
	start := time.Now()
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return appUnavailable()
	}
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if !g.appMode.window { // the window process is its tray process's
		release, err := app.ClaimInstance(dir)
		switch {
		case errors.Is(err, app.ErrRunning):
			// Started again (the menu, the Start menu): the running app
			// opens its window, and no second tray icon shows.
			if err := app.AskToOpen(dir); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "spare: Spare already runs; its window opens")
			return nil
		case err != nil:
			g.log.Warn("cannot tell whether Spare already runs; starting anyway", "err", err)
		default:
			defer release()
		}
	}
	// The app idles in the tray for days, allocating little (a details
	// refresh every few seconds): keep its heap within a quarter of what
	// is live (Go's default lets it reach twice that) unless GOGC says
	// otherwise. A collection of its ~15 MB heap costs a few ms.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	app.PrepareSessionBus()
	if trayProcess(cmd.Context(), g.appMode) {
		client, daemon, _ := daemonLink(g, exe, dir)
		return app.RunTray(cmd.Context(), app.TrayConfig{
			DataDir:       dir,
			Client:        client,
			DaemonCommand: daemon,
			DaemonStopped: daemonStopped(),
			WindowCommand: windowArgv(exe, dir, g),
			OpenAtStart:   true,
			Presence:      true,
			Log:           g.log,
		})
	}
	if app.SkipSystemFonts() {
		g.log.Debug("drawing with the bundled fonts only: they cover the session's language")
	}
	fy := fyneapp.NewWithID(appID)
	fy.SetIcon(app.AppIcon())
	if !hostReady(cmd.Context(), fy) {
		return nil
	}
	client, daemon, checks := daemonLink(g, exe, dir)
	cfg := app.Config{
		DataDir:       dir,
		Client:        client,
		Doctor:        checks,
		DaemonCommand: daemon,
		DaemonStopped: daemonStopped(),
		Presence:      true,
		Login:         autostart.System(),
		About:         app.About{Version: version, Licence: licence, Notices: notices},
		Log:           g.log,
		OnFirstWindow: func() { g.log.Info("first window shown", "after", time.Since(start)) },
		WSL:           wslLimits(g),
		Setup:         firstRun(),
	}
	if g.appMode.window {
		// Beside the tray process: it owns the daemon, the presence
		// sensor and the notifications; the window says, as the sensor
		// would, when this session's input cannot be seen.
		cfg.WindowOnly, cfg.DaemonCommand, cfg.Presence, cfg.ProbePresence = true, nil, false, true
	}
	a := app.New(fy, cfg)
	if g.appMode.window {
		stop := onRaise(a.Raise)
		defer stop()
	}
	return a.Run(cmd.Context())
}

// trayProcess reports whether `spare` runs as the tray process, unless
// told to be the window or one process: where trayHost says so.
func trayProcess(ctx context.Context, m appMode) bool {
	if m.window || m.oneProcess {
		return false
	}
	return trayHost(ctx)
}

// windowArgv is the window process the tray process starts: the same
// data directory, containerd socket and log level.
func windowArgv(exe, dir string, g *globals) []string {
	return []string{exe, "--window", "--data", dir, "--containerd", g.containerd, "--log-level", g.logLevel}
}

// daemonArgv is the `spare node` the app starts when none runs. The
// owner's settings are not flags: the daemon reads DATA/settings.json.
func daemonArgv(exe, dir, containerd string) []string {
	return []string{exe, "node", "--data", dir, "--containerd", containerd}
}

func doctorChecks(socket, dir string) func(context.Context) []app.Check {
	return func(ctx context.Context) []app.Check {
		checks := allChecks(socket, dir)
		var out []app.Check
		for _, r := range doctor.Run(ctx, checks) {
			out = append(out, appCheck(r))
		}
		return out
	}
}

// appCheck is a doctor result as the onboarding shows it; a fix that is
// one command becomes a button that runs it.
func appCheck(r doctor.Result) app.Check {
	c := app.Check{Name: r.Name, OK: r.Status != doctor.Fail, Warn: r.Status == doctor.Warn,
		Detail: r.Detail, Fix: r.Fix, Required: r.Required, Plain: r.Plain}
	if a := r.Action; a != nil && len(a.Argv) > 0 {
		argv := a.Command()
		c.Action = &app.FixAction{Label: a.Label, After: a.After, Run: func(ctx context.Context) error { return runFix(ctx, argv) }}
	}
	return c
}

// pkexec's exit codes when no command ran: the person dismissed the
// prompt, or polkit said no (or no agent could ask).
const (
	pkexecDismissed     = 126
	pkexecNotAuthorised = 127
)

// runFix runs a fix's command with no input: a password is typed into
// the system's own prompt (pkexec asks through the desktop's polkit
// agent), never into Spare. On failure it says why in a few words.
func runFix(ctx context.Context, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if argv[0] == "pkexec" && errors.As(err, &ee) {
		switch ee.ExitCode() {
		case pkexecDismissed:
			return errors.New("permission was not given")
		case pkexecNotAuthorised:
			return errors.New("the system did not allow it (is a desktop permission agent running?)")
		}
	}
	said := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(said, '\n'); i >= 0 {
		said = said[i+1:]
	}
	if len(said) > 200 {
		said = said[:200] + "…"
	}
	if said != "" {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, said)
	}
	return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
}

// appUnavailable explains why `spare` with no arguments cannot open a window.
func appUnavailable() error {
	return fmt.Errorf("no display: the desktop app needs an X11 or Wayland session (run a verb instead, e.g. `spare status`)")
}
