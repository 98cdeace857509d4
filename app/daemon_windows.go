//go:build windows

package app

import "syscall"

func daemonProcAttr() *syscall.SysProcAttr { return nil }
