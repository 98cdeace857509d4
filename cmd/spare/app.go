//go:build cgo

package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
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
	// The app idles in the tray for days, allocating little (a details
	// refresh every few seconds): keep its heap within a quarter of what
	// is live (Go's default lets it reach twice that) unless GOGC says
	// otherwise. A collection of its ~15 MB heap costs a few ms.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	app.PrepareSessionBus()
	if app.SkipSystemFonts() {
		g.log.Debug("drawing with the bundled fonts only: they cover the session's language")
	}
	fy := fyneapp.NewWithID(appID)
	fy.SetIcon(app.AppIcon())
	if !hostReady(cmd.Context(), fy) {
		return nil
	}
	client, daemon, checks := daemonLink(g, exe, dir)
	a := app.New(fy, app.Config{
		DataDir:       dir,
		Client:        client,
		Doctor:        checks,
		DaemonCommand: daemon,
		Presence:      true,
		Login:         autostart.System(),
		Log:           g.log,
		OnFirstWindow: func() { g.log.Info("first window shown", "after", time.Since(start)) },
	})
	return a.Run(cmd.Context())
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
			out = append(out, app.Check{Name: r.Name, OK: r.Status != doctor.Fail, Warn: r.Status == doctor.Warn,
				Detail: r.Detail, Fix: r.Fix, Required: r.Required})
		}
		return out
	}
}

// appUnavailable explains why `spare` with no arguments cannot open a window.
func appUnavailable() error {
	return fmt.Errorf("no display: the desktop app needs an X11 or Wayland session (run a verb instead, e.g. `spare status`)")
}
