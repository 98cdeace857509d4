package market

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sparegpu/spare/internal/atomicfile"
)

// TrustStore keeps a Trust record per provider peer.
type TrustStore interface {
	// Trust returns peer's record; the zero Trust for an unknown peer.
	Trust(peer string) Trust
	// Record counts one checked result of peer and returns the new record.
	Record(peer string, valid bool, now time.Time) (Trust, error)
	// RecordInconclusive counts a disagreement of replicas that could not
	// be settled (see Verdict.Inconclusive) and returns the new record.
	RecordInconclusive(peer string, now time.Time) (Trust, error)
}

// MaxTrustPeers bounds the peers a trust store remembers; past it the
// least recently updated is forgotten.
const MaxTrustPeers = 50_000

// MemTrust is an in-memory TrustStore, safe for concurrent use.
type MemTrust struct {
	mu    sync.Mutex
	peers map[string]Trust
}

var _ TrustStore = (*MemTrust)(nil)

// NewMemTrust returns an empty store.
func NewMemTrust() *MemTrust { return &MemTrust{peers: map[string]Trust{}} }

// Trust implements TrustStore.
func (m *MemTrust) Trust(peer string) Trust {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peers[peer]
}

// Record implements TrustStore.
func (m *MemTrust) Record(peer string, valid bool, now time.Time) (Trust, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.recordLocked(peer, valid, now), nil
}

// RecordInconclusive implements TrustStore.
func (m *MemTrust) RecordInconclusive(peer string, now time.Time) (Trust, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.putLocked(peer, m.peers[peer].RecordInconclusive(now)), nil
}

func (m *MemTrust) recordLocked(peer string, valid bool, now time.Time) Trust {
	return m.putLocked(peer, m.peers[peer].Record(valid, now))
}

func (m *MemTrust) putLocked(peer string, t Trust) Trust {
	if _, ok := m.peers[peer]; !ok && len(m.peers) >= MaxTrustPeers {
		var oldest string
		for p, x := range m.peers {
			if oldest == "" || x.Updated.Before(m.peers[oldest].Updated) {
				oldest = p
			}
		}
		delete(m.peers, oldest)
	}
	m.peers[peer] = t
	return t
}

// FileTrust is a TrustStore kept in a JSON file, rewritten atomically
// (temporary file, fsync, rename) on every Record.
type FileTrust struct {
	MemTrust
	path string
}

var _ TrustStore = (*FileTrust)(nil)

type trustFile struct {
	Version int              `json:"version"`
	Peers   map[string]Trust `json:"peers"`
}

const (
	trustFileVersion = 1
	maxTrustFile     = 32 << 20
)

// OpenFileTrust loads path, or starts empty when it does not exist.
func OpenFileTrust(path string) (*FileTrust, error) {
	f := &FileTrust{MemTrust: MemTrust{peers: map[string]Trust{}}, path: path}
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening trust records: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxTrustFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading trust records: %w", err)
	}
	if len(b) > maxTrustFile {
		return nil, fmt.Errorf("trust records %s: larger than %d bytes", path, maxTrustFile)
	}
	var tf trustFile
	if err := json.Unmarshal(b, &tf); err != nil {
		return nil, fmt.Errorf("trust records %s: %w (remove the file to start afresh)", path, err)
	}
	if tf.Version != trustFileVersion {
		return nil, fmt.Errorf("trust records %s: version %d, want %d", path, tf.Version, trustFileVersion)
	}
	for p, t := range tf.Peers {
		if len(f.peers) == MaxTrustPeers {
			break
		}
		f.peers[p] = t
	}
	return f, nil
}

// Record implements TrustStore; the record is on disk when it returns.
func (f *FileTrust) Record(peer string, valid bool, now time.Time) (Trust, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.update(peer, func() Trust { return f.recordLocked(peer, valid, now) })
}

// RecordInconclusive implements TrustStore; the record is on disk when it
// returns.
func (f *FileTrust) RecordInconclusive(peer string, now time.Time) (Trust, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.update(peer, func() Trust { return f.putLocked(peer, f.peers[peer].RecordInconclusive(now)) })
}

// update applies change (to peer's record, under f.mu) and saves, or
// restores the old record when saving fails.
func (f *FileTrust) update(peer string, change func() Trust) (Trust, error) {
	old, had := f.peers[peer]
	t := change()
	if err := f.saveLocked(); err != nil {
		if had {
			f.peers[peer] = old
		} else {
			delete(f.peers, peer)
		}
		return old, err
	}
	return t, nil
}

func (f *FileTrust) saveLocked() error {
	b, err := json.Marshal(trustFile{Version: trustFileVersion, Peers: f.peers})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.path, b, 0o600); err != nil {
		return fmt.Errorf("saving trust records: %w", err)
	}
	return nil
}
