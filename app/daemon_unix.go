//go:build !windows

package app

import (
	"os"
	"syscall"
)

// daemonProcAttr puts the daemon in its own process group, so a Ctrl-C
// meant for the app reaches the daemon only through the app's Quit.
func daemonProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// askToStop asks the daemon to drain its jobs and exit.
func askToStop(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// allowForeground: any process may raise its window on these desktops.
func allowForeground() {}
