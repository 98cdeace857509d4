//go:build !windows

package localapi

import "syscall"

func bridgeProcAttr() *syscall.SysProcAttr { return nil }
