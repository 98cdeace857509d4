package p2p

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestBookRestartWithoutBootstrap: a host that met a Spare peer through
// its bootstrap node finds that peer again after a restart while the
// bootstrap node is gone, from its address book (a real file, 0600).
func TestBookRestartWithoutBootstrap(t *testing.T) {
	boot := newTestHost(t, Config{BootstrapNode: true})
	other := newTestHost(t, Config{Bootstrap: boot.Addrs()})
	dir := t.TempDir()
	a, err := New(testCtx(t), Config{DataDir: dir, Bootstrap: boot.Addrs(), LoopbackOnly: true, Logger: testLogger})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Connect(testCtx(t), other.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the peer met in the address book", testTimeout, func() bool {
		for _, pi := range a.BookPeers() {
			if pi.ID == other.ID() {
				return true
			}
		}
		return false
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, BookFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("address book mode %v, want 0600", fi.Mode().Perm())
	}
	if err := boot.Close(); err != nil {
		t.Fatal(err)
	}
	again := newTestHost(t, Config{DataDir: dir, Bootstrap: boot.Addrs()})
	testenv.WaitFor(t, "the restarted host connected to its peer", testTimeout, func() bool {
		return again.LibP2P().Network().Connectedness(other.ID()) == network.Connected
	})
	if again.LibP2P().Network().Connectedness(boot.ID()) == network.Connected {
		t.Error("connected to the bootstrap node that was closed")
	}
}

// TestBookHostileFile: what a corrupt or hostile address book holds never
// fails the start, is bounded, and is said in a WARN when ignored.
func TestBookHostileFile(t *testing.T) {
	selfKey, _, _ := crypto.GenerateEd25519Key(nil)
	self, _ := peer.IDFromPrivateKey(selfKey)
	id := func() string {
		k, _, _ := crypto.GenerateEd25519Key(nil)
		p, _ := peer.IDFromPrivateKey(k)
		return p.String()
	}
	book := func(entries ...bookEntry) string {
		b, _ := json.Marshal(bookFile{Version: 1, Peers: entries})
		return string(b)
	}
	good := bookEntry{ID: id(), Addrs: []string{"/ip4/127.0.0.1/tcp/4001"}, Seen: 1}
	var many []bookEntry
	for i := range 3 * MaxBookPeers {
		many = append(many, bookEntry{ID: id(), Addrs: []string{"/ip4/10.0.0.1/tcp/4001"}, Seen: int64(i)})
	}
	var manyAddrs []string
	for i := range 100 {
		manyAddrs = append(manyAddrs, fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001", i))
	}
	cases := []struct {
		name    string
		file    string
		bad     bool // ignored with an error
		peers   int
		maxAddr int
	}{
		{name: "not json", file: "\x00\xffgarbage", bad: true},
		{name: "wrong version", file: `{"version":2,"peers":[]}`, bad: true},
		{name: "too big", file: book(good) + strings.Repeat(" ", MaxBookFile), bad: true},
		{name: "bad entries skipped", file: book(good,
			bookEntry{ID: "not-a-peer-id", Addrs: good.Addrs},
			bookEntry{ID: self.String(), Addrs: good.Addrs},
			bookEntry{ID: id(), Addrs: []string{"not an addr", "/ip4/1.2.3.4/tcp/1/p2p/" + id(), "/dns4/" + strings.Repeat("a", 300) + "/tcp/1"}},
			bookEntry{ID: id()}), peers: 1},
		{name: "too many peers kept to the newest", file: book(many...), peers: MaxBookPeers},
		{name: "too many addresses", file: book(bookEntry{ID: id(), Addrs: manyAddrs}), peers: 1, maxAddr: MaxBookAddrs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "p2p"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, BookFile), []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := loadBook(dir, self)
			if (err != nil) != c.bad {
				t.Fatalf("loadBook: %v, want an error %v", err, c.bad)
			}
			if got := len(b.list()); got != c.peers {
				t.Errorf("%d peers kept, want %d", got, c.peers)
			}
			for _, pi := range b.list() {
				if pi.ID == self {
					t.Error("own ID kept")
				}
				if c.maxAddr > 0 && len(pi.Addrs) > c.maxAddr {
					t.Errorf("%d addresses kept, want at most %d", len(pi.Addrs), c.maxAddr)
				}
			}
			if c.name == "too many peers kept to the newest" {
				for _, pi := range b.list() {
					if pi.ID.String() == many[0].ID {
						t.Error("the oldest entry kept over newer ones")
					}
				}
			}
		})
	}
	// A host starts on a corrupt book, says so, and rewrites it.
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "p2p"), 0o700)
	_ = os.WriteFile(filepath.Join(dir, BookFile), []byte("{{{"), 0o600)
	var logs bytes.Buffer
	h := newTestHost(t, Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.Contains(logs.String(), "address book ignored") {
		t.Errorf("no WARN for a corrupt address book: %s", logs.String())
	}
	other := newTestHost(t, Config{})
	if err := h.Connect(testCtx(t), other.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the peer in the book", testTimeout, func() bool { return len(h.BookPeers()) == 1 })
	h.Close()
	if b, err := loadBook(dir, h.ID()); err != nil || len(b.list()) != 1 {
		t.Errorf("rewritten book: %v, %d peers, want 1", err, len(b.list()))
	}
}

// TestBookSybilFlood: the peers a host met in two sessions stay in its
// address book when, in the next session, many Spare-looking strangers
// (real libp2p hosts speaking a /spare/ protocol, as sybils would) connect
// and identify: the newcomers take at most MaxBookNewcomers places and
// evict one another, never the trusted peers. (Row N2 of
// docs/threat-model.md.)
func TestBookSybilFlood(t *testing.T) {
	honest := []*Host{newTestHost(t, Config{}), newTestHost(t, Config{}), newTestHost(t, Config{})}
	dir := t.TempDir()
	inBook := func(h *Host, want func(bookPeer) bool) func() bool {
		return func() bool {
			h.book.mu.Lock()
			defer h.book.mu.Unlock()
			for _, o := range honest {
				if e, ok := h.book.peers[o.ID()]; !ok || !want(e) {
					return false
				}
			}
			return true
		}
	}
	// Two sessions: the honest peers met in the first are dialled from
	// the book in the second and become trusted.
	for session := 1; session <= 2; session++ {
		a := newTestHost(t, Config{DataDir: dir})
		if session == 1 {
			for _, o := range honest {
				if err := a.Connect(testCtx(t), o.AddrInfo()); err != nil {
					t.Fatal(err)
				}
			}
		}
		testenv.WaitFor(t, fmt.Sprintf("the honest peers met in session %d", session), testTimeout,
			inBook(a, func(e bookPeer) bool { return e.sessions == session }))
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	a := newTestHost(t, Config{DataDir: dir})
	const sybils = MaxBookPeers + 16
	for i := range sybils {
		s, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.SetStreamHandler(protocol.ID(fmt.Sprintf("/spare/sybil/%d", i)), func(st network.Stream) { _ = st.Reset() })
		if err := s.Connect(testCtx(t), a.AddrInfo()); err != nil {
			t.Fatal(err)
		}
	}
	newcomers := func() int {
		a.book.mu.Lock()
		defer a.book.mu.Unlock()
		n := 0
		for _, e := range a.book.peers {
			if !e.trusted() {
				n++
			}
		}
		return n
	}
	testenv.WaitFor(t, "the book holding as many newcomers as it admits", testTimeout, func() bool { return newcomers() == MaxBookNewcomers })
	if !inBook(a, func(e bookPeer) bool { return e.trusted() })() {
		t.Fatalf("a sybil flood of %d evicted trusted peers: book %v", sybils, a.BookPeers())
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// And the file says so at the next start.
	b, err := loadBook(dir, a.ID())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range honest {
		if e, ok := b.peers[o.ID()]; !ok || !e.trusted() {
			t.Errorf("honest peer %s not kept as trusted in the file (%+v)", o.ID(), e)
		}
	}
	if len(b.peers) > MaxBookPeers {
		t.Errorf("book of %d peers, limit %d", len(b.peers), MaxBookPeers)
	}
}
