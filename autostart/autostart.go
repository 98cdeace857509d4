// Package autostart turns "start at login" on and off for the desktop app
// with each system's own mechanism: an XDG autostart entry on Linux and
// the BSDs, a LaunchAgent on macOS, a value under the Run registry key on
// Windows. Enabled reads what the system will do at the next login (a
// package's system-wide entry counts), not what was last asked for.
package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

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

// writeFile replaces path with content (world-readable, as the desktop's
// own entries are) through a rename, so a crash leaves the old or the new.
func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}
