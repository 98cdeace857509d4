package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// SettingsFile is where the app keeps the owner's settings in the data
// directory.
//
// TEMPORARY: the daemon does not read this file yet; a LocalAPI endpoint
// (PUT /v1/settings) is needed to apply settings to a running daemon.
const SettingsFile = "app-settings.json"

// Settings are the owner's choices. The zero value is replaced by
// DefaultSettings field by field when loading.
type Settings struct {
	// IdleMinutes without input before work may start (default 5).
	IdleMinutes int `json:"idle_minutes"`
	// RunOnBattery allows work on battery power (default false).
	RunOnBattery bool `json:"run_on_battery"`
	// MaxTempC is the GPU temperature at which work freezes (default 83).
	MaxTempC int `json:"max_temp_c"`
	// Schedule is "always" or "HH:MM-HH:MM" (local time, may wrap midnight).
	Schedule string `json:"schedule"`
	// PriceFloor is the lowest price per GPU-hour accepted, in currency
	// units ("0.10"); "" accepts the market's price.
	PriceFloor string `json:"price_floor"`
	// Workloads allowed: "render", "inference" (default both).
	Workloads []string `json:"workloads"`
	// StartAtLogin opens Spare when the owner logs in.
	StartAtLogin bool `json:"start_at_login"`
	// Onboarded is set once the first-run checks were seen.
	Onboarded bool `json:"onboarded"`
}

// Workload kinds a provider may allow.
var allWorkloads = []string{"render", "inference"}

// DefaultSettings are what a new install uses.
func DefaultSettings() Settings {
	return Settings{IdleMinutes: 5, MaxTempC: 83, Schedule: "always", Workloads: append([]string(nil), allWorkloads...)}
}

var scheduleRE = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)
var priceRE = regexp.MustCompile(`^\d{1,6}(\.\d{1,6})?$`)

// Validate says, per field, what is wrong.
func (s Settings) Validate() error {
	var errs []error
	if s.IdleMinutes < 1 || s.IdleMinutes > 240 {
		errs = append(errs, fmt.Errorf("idle minutes: %d is outside 1–240", s.IdleMinutes))
	}
	if s.MaxTempC < 50 || s.MaxTempC > 95 {
		errs = append(errs, fmt.Errorf("max temperature: %d °C is outside 50–95", s.MaxTempC))
	}
	if s.Schedule != "always" && !scheduleRE.MatchString(s.Schedule) {
		errs = append(errs, fmt.Errorf(`schedule: %q is neither "always" nor like 22:00-07:00`, s.Schedule))
	}
	if s.PriceFloor != "" && !priceRE.MatchString(s.PriceFloor) {
		errs = append(errs, fmt.Errorf("price floor: %q is not an amount like 0.25", s.PriceFloor))
	}
	for _, w := range s.Workloads {
		if w != "render" && w != "inference" {
			errs = append(errs, fmt.Errorf("workloads: unknown kind %q", w))
		}
	}
	return errors.Join(errs...)
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
// defaults.
func LoadSettings(dataDir string) (Settings, error) {
	s := DefaultSettings()
	b, err := os.ReadFile(filepath.Join(dataDir, SettingsFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading settings: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return DefaultSettings(), fmt.Errorf("reading settings %s: %w", filepath.Join(dataDir, SettingsFile), err)
	}
	return s, nil
}

// SaveSettings validates and writes the settings atomically.
func SaveSettings(dataDir string, s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
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
