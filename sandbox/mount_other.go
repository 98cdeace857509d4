//go:build !linux

package sandbox

import (
	"errors"
	"os"
)

const noFollow = 0

func mountCapped(path string, _ int64, _, _ int) (bool, error) { return false, os.Chmod(path, 0o777) }

func unmount(string) error { return nil }

// ErrMountNamespace is Linux's; elsewhere containerd and Spare share one
// mount table (WSL2 runs both in Spare's distribution).
var ErrMountNamespace = errors.New("containerd cannot see the mounts Spare makes")

func checkMountsVisible(string, string) error { return nil }
