//go:build !linux

package sandbox

import "os"

const noFollow = 0

func mountCapped(path string, _ int64, _, _ int) (bool, error) { return false, os.Chmod(path, 0o777) }

func unmount(string) error { return nil }
