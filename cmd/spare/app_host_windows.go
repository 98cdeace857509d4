//go:build windows && cgo

package main

import (
	"context"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"golang.org/x/sys/windows"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/localapi"
)

// hostReady shows what this PC lacks (WSL2, virtualisation, an NVIDIA
// driver), each with its fix, and runs that window until it closes; it
// returns false then. It returns true, showing nothing, on a PC that can
// run Spare; the app then imports Spare's WSL distribution on first run
// (firstRun), showing its progress.
func hostReady(ctx context.Context, fy fyne.App) bool {
	problems := app.CheckHost(ctx)
	if len(problems) == 0 {
		return true
	}
	app.ShowHostProblems(fy, problems, func() []app.HostProblem { return app.CheckHost(ctx) })
	fy.Run()
	return false
}

// trayHost: on Windows the tray process runs (the notification area is
// always there) once Spare can run on this PC and its distribution is
// imported. Otherwise one process shows what the PC lacks, or the first
// run's import and its Try again, in its window; the next start is the
// tray's.
func trayHost(ctx context.Context) bool {
	if len(app.CheckHost(ctx)) > 0 {
		return false
	}
	needed, err := firstRun().Needed(ctx)
	return err == nil && !needed
}

// daemonLink reaches the daemon in Spare's WSL distribution through the
// bridge, and starts it there when none runs. The onboarding checks are
// the distribution's (`spare doctor` inside it); the host's are above.
func daemonLink(_ *globals, _, _ string) (app.Client, []string, func(context.Context) []app.Check) {
	wsl := wslExe()
	return localapi.NewBridgeClient(bridgeArgv(wsl, wslDataDir), os.Stderr), wslDaemonArgv(wsl, wslDataDir), nil
}

// daemonStopped ends Spare's distribution once the daemon the app
// started there has stopped: its containerd goes too, and WSL may give
// the PC back the memory it holds.
func daemonStopped() []string { return wslTerminateArgv(wslExe()) }

// wslExe is wsl.exe in the system directory.
func wslExe() string {
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		sys = filepath.Join(os.Getenv("SystemRoot"), "System32")
	}
	return filepath.Join(sys, "wsl.exe")
}

// firstRun imports Spare's WSL distribution when it is missing, before
// the app reaches the daemon (app.Setup).
func firstRun() *app.Setup { return app.DistributionSetup(wslDistro) }

// wslLimits is the user's .wslconfig and the PC's size: the app asks to
// set WSL 2's memory and processors there (app/wslscreen.go).
func wslLimits(g *globals) *app.WSLConfig {
	c, err := app.UserWSLConfig()
	if err != nil {
		g.log.Warn("WSL limits are not offered", "err", err)
		return nil
	}
	return c
}
