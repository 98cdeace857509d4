//go:build !windows

package app

import "syscall"

// daemonProcAttr puts the daemon in its own process group, so a Ctrl-C
// meant for the app reaches the daemon only through the app's Quit.
func daemonProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
