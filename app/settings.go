package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
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

// maxSettingsBytes bounds the settings file: a few hundred bytes are
// written; more is not the app's.
const maxSettingsBytes = 64 << 10

// LoadSettings reads DATA/app-settings.json; a missing file gives the
// zero value. Fields of older versions (the work rules, now the daemon's;
// start at login, now read from the system) are ignored. A file over
// maxSettingsBytes, not JSON, or with a value out of range is an error
// naming what is wrong.
func LoadSettings(dataDir string) (Settings, error) {
	var s Settings
	p := filepath.Join(dataDir, SettingsFile)
	b, err := readSettingsFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Settings{}, fmt.Errorf("reading settings %s: %w", p, err)
	}
	if err := s.validate(); err != nil {
		return Settings{}, fmt.Errorf("reading settings %s: %w", p, err)
	}
	return s, nil
}

// errSettingsTooBig is a settings file over maxSettingsBytes.
var errSettingsTooBig = fmt.Errorf("more than %d KiB, not a file the app wrote; remove it to start afresh", maxSettingsBytes>>10)

// readSettingsFile reads the file at p, up to maxSettingsBytes.
func readSettingsFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSettingsBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("reading settings %s: %w", p, err)
	case len(b) > maxSettingsBytes:
		return nil, fmt.Errorf("reading settings %s: %w", p, errSettingsTooBig)
	}
	return b, nil
}

// Bounds of the settings' values: a PC's memory and processors, and the
// limits declined (limitsKey: "MEMORYMB/PROCESSORS").
const (
	maxWSLMemoryGB   = 1 << 16
	maxWSLProcessors = 1 << 12
	maxWSLDeclined   = 64
)

// validate names the first value out of range.
func (s Settings) validate() error {
	switch {
	case s.WSL.MemoryGB < 0 || s.WSL.MemoryGB > maxWSLMemoryGB:
		return fmt.Errorf("wsl.memory_gb %d: want 0 (the default) to %d", s.WSL.MemoryGB, maxWSLMemoryGB)
	case s.WSL.Processors < 0 || s.WSL.Processors > maxWSLProcessors:
		return fmt.Errorf("wsl.processors %d: want 0 (the default) to %d", s.WSL.Processors, maxWSLProcessors)
	case len(s.WSLDeclined) > maxWSLDeclined:
		return fmt.Errorf("wsl_declined: %d characters, want at most %d", len(s.WSLDeclined), maxWSLDeclined)
	}
	return nil
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
		if json.Unmarshal(b, &s) != nil || s.validate() != nil {
			s = Settings{} // a known key of another type or out of range: broken, replaced
		}
		change(&s)
		for _, k := range settingsKeys() { // a value emptied is left out (omitempty)
			delete(raw, k)
		}
		if b, err = json.Marshal(s); err == nil {
			err = json.Unmarshal(b, &raw)
		}
		return err
	})
	return s, err
}

// settingsKeys are the file's keys that Settings has.
func settingsKeys() []string {
	t := reflect.TypeFor[Settings]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	return keys
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
	b, err := readSettingsFile(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case errors.Is(err, errSettingsTooBig):
		raw = map[string]json.RawMessage{} // not the app's: start afresh
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
