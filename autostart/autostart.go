// Package autostart turns "start at login" on and off for the desktop app
// with each system's own mechanism: an XDG autostart entry on Linux and
// the BSDs, a LaunchAgent on macOS, a value under the Run registry key on
// Windows. Enabled reads what the system will do at the next login (a
// package's system-wide entry counts), not what was last asked for.
package autostart

import "errors"

// ErrUnsupported is returned where Spare knows no mechanism for this
// system.
var ErrUnsupported = errors.New("start at login is not available on this system")

// Mechanism is one system's way to start a program at login.
type Mechanism interface {
	// Enabled reports whether the app starts at the next login.
	Enabled() (bool, error)
	// Set makes the executable exe start at login (with no arguments:
	// the desktop app), or stops it doing so.
	Set(on bool, exe string) error
}
