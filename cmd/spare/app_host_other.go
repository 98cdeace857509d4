//go:build !windows && cgo

package main

import (
	"context"
	"runtime"

	"fyne.io/fyne/v2"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/localapi"
)

// hostReady: on Linux the onboarding checks (doctor) say what is
// missing; the app always opens.
func hostReady(context.Context, fyne.App) bool { return true }

// trayHost: on Linux the tray process runs where a tray host shows its
// icon (a StatusNotifier host on the session bus).
func trayHost(context.Context) bool {
	return runtime.GOOS == "linux" && app.ProbeSession().TrayOK()
}

// daemonLink reaches the daemon of dir over its socket and starts `spare
// node` there when none runs.
func daemonLink(g *globals, exe, dir string) (app.Client, []string, func(context.Context) []app.Check) {
	return localapi.NewClient(dir), daemonArgv(exe, dir, g.containerd), doctorChecks(g.containerd, dir)
}

// daemonStopped: nothing outlives the daemon outside Windows.
func daemonStopped() []string { return nil }

// wslLimits: jobs run in WSL only on Windows.
func wslLimits(*globals) *app.WSLConfig { return nil }

// firstRun: nothing to set up before the daemon outside Windows.
func firstRun() *app.Setup { return nil }
