package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sparegpu/spare/internal/atomicfile"
)

// PassSchedule is how long the wallet routes make a caller wait after
// wrong passphrases, so that guessing through the socket costs time and
// not only one KDF per guess. The zero value takes the defaults.
type PassSchedule struct {
	// Free is how many failures in a row are answered without a wait.
	// Zero: 5.
	Free int
	// Base is the wait after the first failure beyond Free; each further
	// failure doubles it. Zero: 10 s.
	Base time.Duration
	// Max caps the wait. Zero: 1 h.
	Max time.Duration
}

// defaultPassSchedule: five typos are free; then 10 s, 20 s, 40 s … up to
// an hour between guesses.
var defaultPassSchedule = PassSchedule{Free: 5, Base: 10 * time.Second, Max: time.Hour}

func (s PassSchedule) withDefaults() PassSchedule {
	if s.Free <= 0 {
		s.Free = defaultPassSchedule.Free
	}
	if s.Base <= 0 {
		s.Base = defaultPassSchedule.Base
	}
	if s.Max <= 0 {
		s.Max = defaultPassSchedule.Max
	}
	return s
}

// passTries is the record of wrong passphrases, kept in DATA/passphrase-tries.json
// (mode 0600) so that restarting the daemon does not reset it.
type passTries struct {
	Failures int       `json:"failures"`
	Last     time.Time `json:"last"` // the latest failure
}

// passTriesFile names the record in the data directory.
const passTriesFile = "passphrase-tries.json"

// passWait decides whether a passphrase may be tried at now after t: ok,
// or not before until. A pure function of the record, the schedule and
// the time.
func passWait(s PassSchedule, t passTries, now time.Time) (until time.Time, ok bool) {
	s = s.withDefaults()
	if t.Failures < s.Free {
		return time.Time{}, true
	}
	wait := s.Base
	for i := s.Free; i < t.Failures && wait < s.Max; i++ {
		wait *= 2
	}
	wait = min(wait, s.Max)
	until = t.Last.Add(wait)
	if !now.Before(until) {
		return time.Time{}, true
	}
	return until, false
}

// loadPassTries reads the record; none is a clean one.
func loadPassTries(dir string) (passTries, error) {
	var t passTries
	b, err := os.ReadFile(filepath.Join(dir, passTriesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return passTries{}, fmt.Errorf("reading %s: %w", passTriesFile, err)
	}
	return t, nil
}

// savePassTries replaces the record (a clean one removes the file).
func savePassTries(dir string, t passTries) error {
	p := filepath.Join(dir, passTriesFile)
	if t.Failures == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return atomicfile.Write(p, b, 0o600)
}
