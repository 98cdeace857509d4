package p2p

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// testLogger writes WARN and above to stderr. Not t.Log: libp2p's own
// loggers are bound process-wide to the first host's handler.
var testLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// testTimeout bounds every wait in these tests: long enough for a CI
// machine loaded by other packages' tests (a book's redial once took
// over 20 s there), and it only matters when a test fails.
const testTimeout = time.Minute

// testCtxTimeout bounds a whole test (testCtx).
const testCtxTimeout = 5 * time.Minute

func newTestHost(t testing.TB, cfg Config) *Host {
	t.Helper()
	cfg.LoopbackOnly = true
	if cfg.Logger == nil {
		cfg.Logger = testLogger
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	h, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// testCtx bounds a whole test, several waits of up to testTimeout each:
// on a loaded machine their sum passed one testTimeout and the ads
// channel of TestAdsPropagate closed before its ad came.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testCtxTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestIdentityPersisted(t *testing.T) {
	dir := t.TempDir()
	a := newTestHost(t, Config{DataDir: dir})
	id := a.ID()
	a.Close()
	st, err := os.Stat(filepath.Join(dir, IdentityFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("identity key mode %o, want 600", st.Mode().Perm())
	}
	b := newTestHost(t, Config{DataDir: dir})
	if b.ID() != id {
		t.Fatalf("identity changed across restarts: %s then %s", id, b.ID())
	}
}

func TestIdentityRefusesReadableKey(t *testing.T) {
	dir := t.TempDir()
	newTestHost(t, Config{DataDir: dir}).Close()
	if err := os.Chmod(filepath.Join(dir, IdentityFile), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(testCtx(t), Config{DataDir: dir, LoopbackOnly: true, Logger: testLogger})
	if !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("got %v, want ErrKeyPermissions", err)
	}
}

func TestIdentityRefusesGarbageKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, IdentityFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(testCtx(t), Config{DataDir: dir, LoopbackOnly: true, Logger: testLogger})
	if !errors.Is(err, ErrBadKey) {
		t.Fatalf("got %v, want ErrBadKey", err)
	}
}

// TestTwoHostsTransports connects two hosts once over TCP and once over QUIC.
func TestTwoHostsTransports(t *testing.T) {
	a := newTestHost(t, Config{})
	for _, proto := range []int{multiaddr.P_TCP, multiaddr.P_QUIC_V1} {
		b := newTestHost(t, Config{})
		var addrs []multiaddr.Multiaddr
		for _, ma := range a.LibP2P().Addrs() {
			if _, err := ma.ValueForProtocol(proto); err == nil {
				addrs = append(addrs, ma)
			}
		}
		if len(addrs) == 0 {
			t.Fatalf("no listener for protocol %d in %v", proto, a.LibP2P().Addrs())
		}
		if err := b.Connect(testCtx(t), peer.AddrInfo{ID: a.ID(), Addrs: addrs}); err != nil {
			t.Fatalf("protocol %d: %v", proto, err)
		}
		conns := b.LibP2P().Network().ConnsToPeer(a.ID())
		if len(conns) == 0 {
			t.Fatal("no connection")
		}
		if _, err := conns[0].RemoteMultiaddr().ValueForProtocol(proto); err != nil {
			t.Fatalf("connected over %s, want protocol %d", conns[0].RemoteMultiaddr(), proto)
		}
		if got := conns[0].ConnState().Security; proto == multiaddr.P_TCP && got != "/noise" {
			t.Fatalf("security %q, want /noise", got)
		}
	}
}

// TestDHTLateJoinerFindsProvider: A advertises through bootstrap node B;
// C starts afterwards, knows only B, and finds A by capability.
func TestDHTLateJoinerFindsProvider(t *testing.T) {
	b := newTestHost(t, Config{BootstrapNode: true})
	a := newTestHost(t, Config{Bootstrap: b.Addrs()})
	if err := a.Advertise(testCtx(t), "gpu:nvidia"); err != nil {
		t.Fatalf("Advertise: %v", err)
	}
	c := newTestHost(t, Config{Bootstrap: b.Addrs()})
	var found []peer.AddrInfo
	for pi := range c.FindProviders(testCtx(t), "gpu:nvidia") {
		found = append(found, pi)
	}
	if len(found) != 1 || found[0].ID != a.ID() {
		t.Fatalf("found %v, want only %s", found, a.ID())
	}
	if err := c.Connect(testCtx(t), found[0]); err != nil {
		t.Fatalf("connecting to the provider found: %v", err)
	}
	for range c.FindProviders(testCtx(t), "gpu:amd") {
		t.Fatal("found a provider for a capability nobody advertised")
	}
}

// TestIdentityCopyDetected runs two processes' worth of hosts on one data
// directory; the bootstrap node they share tells each about the other.
func TestIdentityCopyDetected(t *testing.T) {
	b := newTestHost(t, Config{BootstrapNode: true})
	dir := t.TempDir()
	reports := make(chan IdentityCopy, 4)
	onCopy := func(c IdentityCopy) { reports <- c }
	a1 := newTestHost(t, Config{DataDir: dir, Bootstrap: b.Addrs(), OnIdentityCopy: onCopy})
	a2 := newTestHost(t, Config{DataDir: dir, Bootstrap: b.Addrs(), OnIdentityCopy: onCopy})
	if a1.ID() != a2.ID() {
		t.Fatal("same data dir, different identities")
	}
	select {
	case r := <-reports:
		if r.Reporter != b.ID() || (r.Instance != a1.instance && r.Instance != a2.instance) {
			t.Fatalf("unexpected report %+v", r)
		}
	case <-testCtx(t).Done():
		t.Fatal("no identity-copy report")
	}
}
