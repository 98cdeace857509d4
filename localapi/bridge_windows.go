//go:build windows

package localapi

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// bridgeProcAttr starts the bridge without a console window.
func bridgeProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{HideWindow: true, CreationFlags: windows.CREATE_NO_WINDOW}
}
