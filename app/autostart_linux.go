//go:build linux

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

var sysAutostart autostarter = xdgAutostart{}

// xdgAutostart writes $XDG_CONFIG_HOME/autostart/spare.desktop.
type xdgAutostart struct{ configHome string }

// desktopFile is the autostart entry; Exec runs `spare` with no arguments.
const desktopFile = `[Desktop Entry]
Type=Application
Name=Spare
Comment=Rent out your idle GPU
Exec=%q
Icon=spare
Terminal=false
X-GNOME-Autostart-enabled=true
`

func (x xdgAutostart) path() (string, error) {
	dir := x.configHome
	if dir == "" {
		dir = os.Getenv("XDG_CONFIG_HOME")
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", "spare.desktop"), nil
}

func (x xdgAutostart) set(on bool, exe string) error {
	p, err := x.path()
	if err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if !on {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("start at login: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if err := os.WriteFile(p, fmt.Appendf(nil, desktopFile, exe), 0o644); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}
