package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sparegpu/spare/app/wslconfig"
	"github.com/sparegpu/spare/internal/atomicfile"
	"github.com/sparegpu/spare/internal/filelock"
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
	FirstEarningsShown bool `json:"first_earnings_shown"`
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

// settingsLock is the lock file every process of the app (the tray
// process, the window process) takes to change the settings file.
const settingsLock = ".app-settings.lock"

// UpdateSettings changes the settings file as it is now, not as this
// process read it before: under a lock every process of the app takes
// (the tray process and the window process both write it), it reads the
// file, applies change and writes the result atomically. Keys it does not
// know (a newer version's) are kept; a file that is not JSON is replaced.
// It returns the settings as written: the other process's changes too.
func UpdateSettings(dataDir string, change func(*Settings)) (Settings, error) {
	var s Settings
	err := updateSettingsFile(dataDir, func(raw map[string]json.RawMessage) error {
		b, err := json.Marshal(raw)
		if err != nil {
			return err
		}
		if json.Unmarshal(b, &s) != nil {
			s = Settings{} // a known key of another type: broken, replaced
		}
		change(&s)
		if b, err = json.Marshal(s); err == nil {
			err = json.Unmarshal(b, &raw)
		}
		return err
	})
	return s, err
}

// updateSettingsFile is UpdateSettings on the file's keys.
func updateSettingsFile(dataDir string, change func(map[string]json.RawMessage) error) error {
	unlock, err := filelock.Lock(filepath.Join(dataDir, settingsLock))
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	defer unlock()
	p := filepath.Join(dataDir, SettingsFile)
	raw := map[string]json.RawMessage{}
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("saving settings: %w", err)
	case json.Unmarshal(b, &raw) != nil:
		raw = map[string]json.RawMessage{} // broken: LoadSettings said so; start afresh
	}
	if err := change(raw); err != nil {
		return fmt.Errorf("saving settings %s: %w", p, err)
	}
	if b, err = json.MarshalIndent(raw, "", "  "); err != nil {
		return fmt.Errorf("saving settings %s: %w", p, err)
	}
	return atomicfile.Write(p, append(b, '\n'), 0o600)
}

// claimFirstEarnings marks "Your first earnings" as told and reports
// whether this process is the one to tell it: false when another process
// of the app told it first. It is said once, whichever process says it.
func claimFirstEarnings(dataDir string) (bool, error) {
	first := false
	_, err := UpdateSettings(dataDir, func(s *Settings) {
		first = !s.FirstEarningsShown
		s.FirstEarningsShown = true
	})
	return first || err != nil, err // unsure: better twice than never
}

// tellFirstEarningsOnce drops "Your first earnings" from notes where
// another process of the app told it already, and marks it told where not.
func tellFirstEarningsOnce(dataDir string, notes []Notification, log *slog.Logger) []Notification {
	i := slices.IndexFunc(notes, func(n Notification) bool { return n.Kind == FirstEarnings })
	if i < 0 {
		return notes
	}
	mine, err := claimFirstEarnings(dataDir)
	if err != nil {
		log.Warn("saving settings", "err", err)
	}
	if mine {
		return notes
	}
	log.Info("the first earnings were told by another process of the app")
	return slices.Delete(slices.Clone(notes), i, i+1)
}
