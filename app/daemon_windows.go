//go:build windows

package app

import (
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// daemonProcAttr: the daemon's wsl.exe opens no console window.
func daemonProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{HideWindow: true, CreationFlags: windows.CREATE_NO_WINDOW}
}

// askToStop ends wsl.exe, the daemon's link into the distribution, when
// the daemon did not take POST /v1/stop: Windows has no SIGTERM to send
// it.
func askToStop(p *os.Process) error { return p.Kill() }

var procAllowSetForegroundWindow = windows.NewLazySystemDLL("user32.dll").NewProc("AllowSetForegroundWindow")

// allowForeground lets the running app bring its window to the front:
// Windows lets only the process the owner just started (this one) do so,
// unless it hands that right on.
func allowForeground() {
	const asfwAny = ^uintptr(0) // ASFW_ANY
	procAllowSetForegroundWindow.Call(asfwAny)
}
