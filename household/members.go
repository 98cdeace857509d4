package household

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/internal/atomicfile"
	"github.com/sparegpu/spare/localapi"
)

// File keeps the paired machines in the data directory (0600).
const File = "household.json"

// Pairing and replay bounds.
const (
	// CodeLifetime is how long a pairing code works.
	CodeLifetime = 10 * time.Minute
	// CodeTries is how many wrong codes void the code shown.
	CodeTries = 5
	// codeLen and codeAlphabet: 8 of 31 unambiguous characters, ~40 bits.
	codeLen      = 8
	codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	// maxPaired bounds the paired machines kept.
	maxPaired = 32
	// maxNonces bounds the command nonces remembered (within clockSkew).
	maxNonces = 4096
	// maxFile bounds DATA/household.json.
	maxFile = 64 << 10
)

// pairedMachine is a machine the owner paired, as kept in File.
type pairedMachine struct {
	Peer  string    `json:"peer"`
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
}

type fileBody struct {
	Paired []pairedMachine `json:"paired"`
}

// members is who belongs: paired machines (kept in File) and machines
// that proved this one's payee key (for this run), and the command
// nonces seen.
type members struct {
	mu     sync.Mutex
	path   string
	paired map[peer.ID]pairedMachine
	payee  map[peer.ID]bool
	names  map[peer.ID]string // what each member last called itself
	nonces map[string]time.Time
	code   string // the pairing code shown ("" none)
	codeAt time.Time
	tries  int
}

func loadMembers(dataDir string) (*members, error) {
	m := &members{path: filepath.Join(dataDir, File), paired: map[peer.ID]pairedMachine{}, payee: map[peer.ID]bool{},
		names: map[peer.ID]string{}, nonces: map[string]time.Time{}}
	f, err := os.Open(m.path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the household: %w", err)
	}
	defer f.Close()
	var body fileBody
	dec := json.NewDecoder(io.LimitReader(f, maxFile))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("reading the household %s: %w (fix or remove the file; pair the machines again)", m.path, err)
	}
	for i, p := range body.Paired {
		id, err := peer.Decode(p.Peer)
		if err != nil || checkName("name", p.Name) != nil || i >= maxPaired {
			return nil, fmt.Errorf("the household %s: paired[%d] is not a peer ID and a name (fix or remove the file)", m.path, i)
		}
		m.paired[id], m.names[id] = p, p.Name
	}
	return m, nil
}

// save writes File durably (under mu).
func (m *members) save() error {
	var body fileBody
	for _, p := range m.paired {
		body.Paired = append(body.Paired, p)
	}
	b, err := json.MarshalIndent(body, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(m.path, append(b, '\n'), 0o600)
}

// via says how id belongs ("" not at all).
func (m *members) via(id peer.ID) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.payee[id]:
		return localapi.ViaPayee
	case m.paired[id].Peer != "":
		return localapi.ViaPaired
	}
	return ""
}

// list is every member and how it belongs.
func (m *members) list() map[peer.ID]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[peer.ID]string{}
	for id := range m.paired {
		out[id] = localapi.ViaPaired
	}
	for id := range m.payee {
		out[id] = localapi.ViaPayee
	}
	return out
}

func (m *members) name(id peer.ID) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.names[id]
}

func (m *members) setName(id peer.ID, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.payee[id] || m.paired[id].Peer != "" {
		m.names[id] = name
	}
}

func (m *members) addPayee(id peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.payee[id] = true
}

// pair keeps id as paired, durably.
func (m *members) pair(id peer.ID, name string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.paired[id]; !ok && len(m.paired) >= maxPaired {
		return fmt.Errorf("already %d machines paired: unpair one first", maxPaired)
	}
	m.paired[id], m.names[id] = pairedMachine{Peer: id.String(), Name: name, Since: now.UTC()}, name
	if err := m.save(); err != nil {
		delete(m.paired, id)
		return fmt.Errorf("keeping the pairing: %w", err)
	}
	return nil
}

// newCode makes the pairing code shown from now, voiding any other.
func (m *members) newCode(now time.Time) (localapi.PairCode, error) {
	b := make([]byte, codeLen)
	if _, err := rand.Read(b); err != nil {
		return localapi.PairCode{}, err
	}
	code := make([]byte, 0, codeLen+1)
	for i, c := range b {
		if i == codeLen/2 {
			code = append(code, '-')
		}
		code = append(code, codeAlphabet[int(c)%len(codeAlphabet)])
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.code, m.codeAt, m.tries = normalCode(string(code)), now, 0
	return localapi.PairCode{Code: string(code), Expires: now.Add(CodeLifetime)}, nil
}

// errNoCode and errWrongCode are a pairing's refusals.
var (
	errNoCode    = errors.New("this machine shows no pairing code: open Add a machine on it first")
	errWrongCode = errors.New("wrong pairing code")
)

// tryCode checks a pairing MAC from `from` to `me` against the code
// shown; a match uses the code up, CodeTries misses void it.
func (m *members) tryCode(mac string, from, me peer.ID, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.code == "" || now.Sub(m.codeAt) > CodeLifetime {
		m.code = ""
		return errNoCode
	}
	want := pairMAC(m.code, from, me)
	if subtle.ConstantTimeCompare([]byte(want), []byte(mac)) != 1 {
		m.tries++
		if m.tries >= CodeTries {
			m.code = ""
		}
		return errWrongCode
	}
	m.code = ""
	return nil
}

// fresh records a command's nonce, false when it was seen within the
// window (a replay). Nonces older than the window are dropped: a command
// that old is refused by its time anyway.
func (m *members) fresh(from peer.ID, nonce string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := from.String() + "/" + nonce
	if _, seen := m.nonces[key]; seen {
		return false
	}
	if len(m.nonces) >= maxNonces {
		for k, at := range m.nonces {
			if now.Sub(at) > 2*clockSkew {
				delete(m.nonces, k)
			}
		}
		if len(m.nonces) >= maxNonces {
			return false // a flood of fresh commands: refuse rather than forget
		}
	}
	m.nonces[key] = now
	return true
}
