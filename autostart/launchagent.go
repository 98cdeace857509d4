package autostart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// agentLabel names Spare's LaunchAgent (and its plist file).
const agentLabel = "io.sparegpu.spare"

// LaunchAgent is macOS's per-user launchd agent: a property list in
// ~/Library/LaunchAgents that launchd reads at login and runs once
// (RunAtLoad) in the graphical session.
type LaunchAgent struct {
	Home string // default the user's home directory
}

func (l LaunchAgent) path() (string, error) {
	home := l.Home
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("start at login: %w", err)
		}
		home = h
	}
	return filepath.Join(home, "Library", "LaunchAgents", agentLabel+".plist"), nil
}

// Enabled reports whether Spare's agent is there.
func (l LaunchAgent) Enabled() (bool, error) {
	p, err := l.path()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start at login: %w", err)
	}
	return true, nil
}

// Set writes or removes the agent. launchd reads it at the next login.
func (l LaunchAgent) Set(on bool, exe string) error {
	p, err := l.path()
	if err != nil {
		return err
	}
	if !on {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("start at login: %w", err)
		}
		return nil
	}
	if !filepath.IsAbs(exe) {
		return fmt.Errorf("start at login: %q is not an absolute path", exe)
	}
	var esc bytes.Buffer
	if err := xml.EscapeText(&esc, []byte(exe)); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	return writeFile(p, fmt.Sprintf(agentPlist, agentLabel, esc.String()))
}

// agentPlist: label, then the executable (XML-escaped).
const agentPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>%s</string>
	<key>ProgramArguments</key>
	<array>
		<string>%s</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
</dict>
</plist>
`
