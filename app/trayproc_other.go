//go:build !linux && !windows

package app

import (
	"errors"
	"log/slog"
	"os"
	"syscall"
)

// The tray process runs on Linux and Windows only (cmd/spare).

func runTrayLoop(build, body func(), _ func()) { build(); body() }

func windowProcAttr() *syscall.SysProcAttr { return nil }

func holdWindow(*os.Process, *slog.Logger) {}

func raiseWindow(*os.Process) error {
	return errors.New("raising the window process: Linux and Windows only")
}

func askWindowToClose(p *os.Process) error { return p.Kill() }

func notify(title, _ string, log *slog.Logger) { log.Warn("no notifications here", "title", title) }
