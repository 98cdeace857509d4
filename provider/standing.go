package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/sparegpu/spare/internal/atomicfile"
)

// Limits of what the provider remembers of requesters.
const (
	// StandingFile keeps each requester's standing in the data directory.
	StandingFile = "requesters.json"
	// ForgiveAfter is how long unpaid work keeps a requester refused: an
	// honest one whose last voucher was lost to the network is served
	// again a day later; one that never pays gets one small window a day.
	ForgiveAfter = 24 * time.Hour
	// maxStandings bounds the requesters remembered (the oldest go first).
	maxStandings = 10000
	// maxStandingFile bounds the file read at start.
	maxStandingFile = 4 << 20
	// NewRequesterIntervals is the unpaid intervals a requester that has
	// never paid a job in full may run up; one that has gets the
	// configured credit.
	NewRequesterIntervals = 1
)

// standing is what the provider knows of one requester peer.
type standing struct {
	// Unpaid is work billed in receipts and never paid, in the token's
	// smallest unit, summed over its jobs.
	Unpaid uint64 `json:"unpaid"`
	// UnpaidAt is when unpaid work was last left.
	UnpaidAt time.Time `json:"unpaid_at,omitzero"`
	// PaidJobs counts its jobs paid in full.
	PaidJobs uint64    `json:"paid_jobs"`
	Seen     time.Time `json:"seen"`
}

// admitRequester decides on a requester's proposal from its standing at
// now: refused while it owes (until ForgiveAfter has passed since it
// last left unpaid work), and how many unpaid intervals its job may run
// up (0: the configured credit).
func admitRequester(s standing, now time.Time) (refuse string, intervals int) {
	if s.Unpaid > 0 && now.Sub(s.UnpaidAt) < ForgiveAfter {
		return fmt.Sprintf("%d units of earlier work are unpaid; this provider takes no more work from this requester until %s",
			s.Unpaid, s.UnpaidAt.Add(ForgiveAfter).UTC().Format(time.RFC3339)), 0
	}
	if s.PaidJobs == 0 {
		return "", NewRequesterIntervals
	}
	return "", 0
}

// standings is every requester's standing, kept in a file (0600,
// synced, renamed) so a restart forgets no debt.
type standings struct {
	path string
	mu   sync.Mutex
	m    map[string]standing
}

// openStandings reads dir/StandingFile. A missing file is an empty
// record; a damaged one is an error naming it.
func openStandings(dir string) (*standings, error) {
	s := &standings{path: filepath.Join(dir, StandingFile), m: map[string]standing{}}
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading requesters' standing: %w", err)
	}
	defer f.Close()
	if err := json.NewDecoder(io.LimitReader(f, maxStandingFile)).Decode(&s.m); err != nil {
		return nil, fmt.Errorf("reading %s: %w (remove it to forget every requester's standing)", s.path, err)
	}
	return s, nil
}

func (s *standings) get(peer string) standing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[peer]
}

// ended records a job of peer's that ended with billed and paid, and
// saves the record before returning. A job this machine's owner ended
// (ownerEnded: the owner came back, a freeze failed) leaves its last
// receipts unpaid through no fault of the requester's, which is then not
// refused for them (the ledger still shows them unpaid); it does not
// count as a job paid in full either.
func (s *standings) ended(peer string, billed, paid uint64, ownerEnded bool, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[peer]
	st.Seen = now
	switch {
	case billed > paid && ownerEnded:
	case billed > paid:
		st.Unpaid += billed - paid
		st.UnpaidAt = now
	case billed > 0:
		st.PaidJobs++
	}
	s.m[peer] = st
	if len(s.m) > maxStandings {
		oldest := slices.MinFunc(slices.Collect(maps.Keys(s.m)), func(a, b string) int { return s.m[a].Seen.Compare(s.m[b].Seen) })
		delete(s.m, oldest)
	}
	return s.save()
}

func (s *standings) save() error {
	b, err := json.Marshal(s.m)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.path, b, 0o600); err != nil {
		return fmt.Errorf("saving requesters' standing: %w", err)
	}
	return nil
}
