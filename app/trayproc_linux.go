package app

import (
	"os"
	"syscall"
)

// windowProcAttr ends the window process when the tray process dies
// without ending it (killed): a window left alone would show a daemon
// that nothing stops.
func windowProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// raiseWindow asks the running window process to show and focus its
// window (it answers SIGUSR1: cmd/spare's onRaise).
func raiseWindow(p *os.Process) error { return p.Signal(syscall.SIGUSR1) }
