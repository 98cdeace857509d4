//go:build !linux

package app

import (
	"errors"
	"runtime"
)

// On Windows (a Run registry value) and macOS (a LaunchAgent plist) start
// at login is not written yet; the setting is kept and this says so.
var sysAutostart autostarter = unsupportedAutostart{}

type unsupportedAutostart struct{}

func (unsupportedAutostart) set(on bool, _ string) error {
	if !on {
		return nil
	}
	return errors.New("start at login is not available on " + runtime.GOOS + " yet")
}
