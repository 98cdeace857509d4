package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sparegpu/spare/app/wslconfig"
)

// SettingsFile is where the app keeps its own choices in the data
// directory. The owner's rules for work (idle minutes, battery,
// temperature, schedule, price floor, workloads) belong to the daemon:
// the app reads and changes them through the LocalAPI.
const SettingsFile = "app-settings.json"

// Settings are the app's own choices, about this session only. The zero
// value is what a new install uses.
type Settings struct {
	// Onboarded is set once the first-run checks were seen.
	Onboarded bool `json:"onboarded"`
	// FirstEarningsShown is set once "Your first earnings" was notified:
	// it is said once, not once a session.
	FirstEarningsShown bool `json:"first_earnings_shown,omitempty"`
	// WSL is the owner's choice of memory and processors for jobs in
	// WSL 2 (Windows; zero fields: the defaults), and WSLDeclined the
	// limits they said "Not now" to, not asked again at start.
	WSL         wslconfig.Choice `json:"wsl,omitempty"`
	WSLDeclined string           `json:"wsl_declined,omitempty"`
}

// ParseIntField reads a number typed into a settings field.
func ParseIntField(name, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", name, s)
	}
	return n, nil
}

// LoadSettings reads DATA/app-settings.json; a missing file gives the
// zero value. Fields of older versions (the work rules, now the daemon's;
// start at login, now read from the system) are ignored.
func LoadSettings(dataDir string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(filepath.Join(dataDir, SettingsFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading settings: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Settings{}, fmt.Errorf("reading settings %s: %w", filepath.Join(dataDir, SettingsFile), err)
	}
	return s, nil
}

// SaveSettings writes the settings atomically.
func SaveSettings(dataDir string, s Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(dataDir, SettingsFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	return nil
}
