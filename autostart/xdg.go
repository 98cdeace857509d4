package autostart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// entryName is the autostart entry's file name; the packages install a
// system-wide one of the same name (/etc/xdg/autostart/spare.desktop).
const entryName = "spare.desktop"

// XDG is the XDG Autostart specification: a desktop entry in
// $XDG_CONFIG_HOME/autostart (the user's) or in an $XDG_CONFIG_DIRS
// autostart directory (system-wide). A user entry hides system entries of
// the same name, and one with Hidden=true turns the program off. Empty
// fields take the specification's defaults from the environment.
type XDG struct {
	ConfigHome string   // default $XDG_CONFIG_HOME, else ~/.config
	ConfigDirs []string // default $XDG_CONFIG_DIRS, else /etc/xdg
}

func (x XDG) userEntry() (string, error) {
	dir := x.ConfigHome
	if dir == "" {
		dir = os.Getenv("XDG_CONFIG_HOME")
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("start at login: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", entryName), nil
}

func (x XDG) systemDirs() []string {
	if x.ConfigDirs != nil {
		return x.ConfigDirs
	}
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("XDG_CONFIG_DIRS")) {
		if filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		dirs = []string{"/etc/xdg"}
	}
	return dirs
}

// Enabled reads the entry that wins: the user's, else the first system one.
func (x XDG) Enabled() (bool, error) {
	user, err := x.userEntry()
	if err != nil {
		return false, err
	}
	on, found, err := readEntry(user)
	if found || err != nil {
		return on, err
	}
	return x.systemEnabled()
}

func (x XDG) systemEnabled() (bool, error) {
	for _, d := range x.systemDirs() {
		on, found, err := readEntry(filepath.Join(d, "autostart", entryName))
		if found || err != nil {
			return on, err
		}
	}
	return false, nil
}

// Set writes the user's entry. Turned off, the entry is removed, or, when
// a system-wide entry would start the app anyway, replaced by a hidden one.
func (x XDG) Set(on bool, exe string) error {
	user, err := x.userEntry()
	if err != nil {
		return err
	}
	if on {
		exec, err := execQuote(exe)
		if err != nil {
			return err
		}
		return writeFile(user, fmt.Sprintf(desktopEntry, exec, ""))
	}
	sys, err := x.systemEnabled()
	if err != nil {
		return err
	}
	if sys {
		return writeFile(user, fmt.Sprintf(desktopEntry, "spare", "Hidden=true\n"))
	}
	if err := os.Remove(user); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}

// desktopEntry is the user's autostart entry: Exec, then extra lines.
const desktopEntry = `[Desktop Entry]
Type=Application
Name=Spare
Comment=Spare's tray icon: shows what your GPU is doing and gives it back when you return
Exec=%s
Icon=spare
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
%s`

// readEntry reports whether the desktop entry at path exists and whether
// it starts the program: not Hidden, not switched off for GNOME.
func readEntry(path string) (on, found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("start at login: %w", err)
	}
	on = true
	group := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			group = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || group != "[Desktop Entry]" {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Hidden":
			on = on && strings.TrimSpace(v) != "true"
		case "X-GNOME-Autostart-enabled":
			on = on && strings.TrimSpace(v) != "false"
		}
	}
	return on, true, sc.Err()
}

// execQuote writes exe as the Exec key's program per the Desktop Entry
// specification: in double quotes, with ", `, $ and \ escaped by a
// backslash, then every backslash doubled by the string-value escaping,
// and % written %% (it starts field codes).
func execQuote(exe string) (string, error) {
	if !filepath.IsAbs(exe) {
		return "", fmt.Errorf("start at login: %q is not an absolute path", exe)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range exe {
		switch {
		case r < 0x20 || r == 0x7f:
			return "", fmt.Errorf("start at login: the path %q has a control character", exe)
		case r == '"' || r == '`' || r == '$':
			b.WriteString(`\\`)
			b.WriteRune(r)
		case r == '\\':
			b.WriteString(`\\\\`)
		case r == '%':
			b.WriteString("%%")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
