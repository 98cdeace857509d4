//go:build !linux

package app

import (
	"errors"
	"os"
	"syscall"
)

// windowProcAttr: the tray process runs on Linux only (cmd/spare).
func windowProcAttr() *syscall.SysProcAttr { return nil }

func raiseWindow(*os.Process) error { return errors.New("raising the window process: Linux only") }
