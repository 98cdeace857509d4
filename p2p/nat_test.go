package p2p

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/observedaddrs"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/sparegpu/spare/internal/simnet"
)

// Environment of the helper processes TestNATRelay starts.
const (
	natRole     = "SPARE_P2P_NAT_ROLE" // relay, provider or requester
	natBoot     = "SPARE_P2P_NAT_BOOT"
	natProvider = "SPARE_P2P_NAT_PROVIDER"
	natDigest   = "SPARE_P2P_NAT_DIGEST"
	natData     = "SPARE_P2P_NAT_DATA"  // the child's data dir (its identity)
	natGrant    = "SPARE_P2P_NAT_GRANT" // peers the provider grants its blob to
	natTimeout  = 90 * time.Second
)

// TestNATRelay builds, with network namespaces on this machine only, an
// "internet" namespace and sites behind routers that masquerade and admit
// no inbound connection:
//
//	site 1: 192.168.77.2 ── router 192.168.77.1 | 11.77.0.2 ──┐
//	                                                          pub 11.77.0.1, 11.78.0.1 (forwards)
//	site 2: 192.168.78.2 ── router 192.168.78.1 | 11.78.0.2 ──┘
//
// The "public" side uses 11.77.0.0/24 and 11.78.0.0/24 because autorelay
// only builds relay addresses from a relay's public addresses; no route
// leads out of these namespaces, so nothing reaches the real owners.
//
// It runs processes of this test binary: a bootstrap/relay node in pub, a
// provider in site 1, and a requester in pub ("public requester") or in
// site 2 ("both behind NAT"). The requester finds the provider in the DHT,
// fetches a blob through the relay, then waits for DCUtR to give a direct
// connection and fetches again over it. With a public requester the
// provider dials it back (a connection reversal); with both behind NAT only
// a hole punch gives a direct connection. Both must happen here.
func TestNATRelay(t *testing.T) {
	if role := os.Getenv(natRole); role != "" {
		natChild(t, role)
		return
	}
	w := simnet.New(t, "sppub")
	pub := w.Pub
	site1 := w.NATSite(77, simnet.PortRestricted)
	site2 := w.NATSite(78, simnet.PortRestricted)

	ctx, cancel := context.WithTimeout(context.Background(), natTimeout)
	defer cancel()
	relay := startNATChild(ctx, t, pub, "relay", nil)
	boot := relay.want(t, "ADDR")[0]
	cases := []struct {
		name, ns, via, data string
		// punched: the requester must count a successful hole punch
		// even when its first connection to the provider was direct
		// (two port-restricted NATs: only a punch connects them).
		punched bool
	}{
		{"public requester", pub, "inbound", "", false}, // the provider dials back
		{"both behind NAT", site2, "", "", true},
	}
	var grant []string // the requesters' identities, made here so the provider can grant them its blob
	for i := range cases {
		cases[i].data = t.TempDir()
		key, err := loadIdentity(cases[i].data)
		if err != nil {
			t.Fatal(err)
		}
		id, err := peer.IDFromPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		grant = append(grant, id.String())
	}
	prov := startNATChild(ctx, t, site1, "provider", []string{natBoot + "=" + boot, natGrant + "=" + strings.Join(grant, ",")})
	ready := prov.want(t, "READY")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := startNATChild(ctx, t, c.ns, "requester", []string{natBoot + "=" + boot, natData + "=" + c.data,
				natProvider + "=" + ready[0], natDigest + "=" + ready[1]})
			res := req.want(t, "RESULT")
			t.Logf("provider behind NAT, %s: %s", c.name, strings.Join(res, " "))
			if res[0] != "relay=ok" {
				t.Fatalf("relayed transfer failed: %v", res)
			}
			if !strings.HasPrefix(res[1], "direct=/") || !strings.HasSuffix(res[1], ",fetch-ok") {
				t.Fatalf("no direct connection through DCUtR: %v", res)
			}
			if c.via != "" && !strings.Contains(res[1], ","+c.via+",") {
				t.Errorf("direct connection %s, want it %s", res[1], c.via)
			}
			// The relayed connection's upgrade counts as a hole punch on
			// the requester's side too, which dialled through the relay:
			// by DCUtR's end event when both punched, by the direct
			// connection's arrival when the provider dialled it back.
			// (A public requester's first connection may be direct
			// already: the provider dialled it for the DHT before.)
			if ok, _, err := punchCounts(res[3]); err != nil || (c.punched || res[4] == "first=relay") && ok < 1 {
				t.Errorf("want at least 1 successful hole punch counted after a relayed first connection, got %s %s (%v)", res[3], res[4], err)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type natProc struct {
	lines chan []string
	name  string
}

func startNATChild(ctx context.Context, t *testing.T, ns, role string, env []string) *natProc {
	t.Helper()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestNATRelay$", "-test.v", "-test.count=1")
	cmd.Env = append(append(os.Environ(), natRole+"="+role), env...)
	stdin, err := cmd.StdinPipe() // closed when the test ends: the child then exits
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &natProc{lines: make(chan []string, 16), name: role}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			stderr.Write([]byte(sc.Text() + "\n"))
			if f := strings.Fields(sc.Text()); len(f) > 1 && strings.ToUpper(f[0]) == f[0] {
				p.lines <- f
			}
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill() // our own child, by its PID
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", role, stderr.String())
		}
	})
	return p
}

// want waits for the child's line starting with key and returns the rest.
func (p *natProc) want(t *testing.T, key string) []string {
	t.Helper()
	return p.wantWithin(t, key, natTimeout)
}

// wantWithin is want with its own bound: as long as the child itself
// waits for what it reports.
func (p *natProc) wantWithin(t *testing.T, key string, d time.Duration) []string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s exited before saying %s", p.name, key)
			}
			if f[0] == key {
				return f[1:]
			}
		case <-timeout:
			t.Fatalf("%s did not say %s", p.name, key)
		}
	}
}

// natChild is one helper process; it runs until its stdin closes.
func natChild(t *testing.T, role string) {
	// A host believes an address others report for it once four distinct
	// peers have; this network has one relay to report it. (Only QUIC
	// connections teach a host its public address here: its TCP dials leave
	// from a fresh port rather than from its listening one.)
	observedaddrs.ActivationThresh = 1
	ctx, cancel := context.WithTimeout(context.Background(), natTimeout)
	defer cancel()
	listen, _ := ParseMultiaddrs(DefaultListen)
	cfg := Config{Listen: listen, NoMDNS: true, NoPortMap: true, Logger: testLogger, DataDir: os.Getenv(natData)}
	if b := os.Getenv(natBoot); b != "" {
		for _, s := range strings.Split(b, ",") {
			a, err := multiaddr.NewMultiaddr(s)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Bootstrap = append(cfg.Bootstrap, a)
		}
	}
	switch role {
	case "relay":
		cfg.BootstrapNode = true
	case "provider":
		cfg.forcePrivate = true
	}
	h, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	switch role {
	case "relay":
		// Both transports: a NAT keeps a QUIC dial's source port (it leaves
		// from the listening socket) but gives a TCP dial a new one, and only
		// the former tells the provider an address others can reach it on.
		var addrs []string
		for _, a := range h.Addrs() {
			if !manet.IsIPLoopback(a) && (strings.Contains(a.String(), "/tcp/") || strings.Contains(a.String(), "/quic-v1/")) {
				addrs = append(addrs, a.String())
			}
		}
		fmt.Printf("ADDR %s\n", strings.Join(addrs, ","))
	case "provider":
		natProvide(ctx, t, h)
	case "requester":
		natRequest(ctx, t, h)
		return
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func natProvide(ctx context.Context, t *testing.T, h *Host) {
	sub, err := h.LibP2P().EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for !hasCircuit(h.LibP2P().Addrs()) {
		select {
		case <-sub.Out():
		case <-ctx.Done():
			t.Fatalf("no relay reservation; addrs %v", h.LibP2P().Addrs())
		}
	}
	store := FileStore{Dir: t.TempDir()}
	d, _, err := store.Put(io.LimitReader(rand.Reader, 8<<10), 0)
	if err != nil {
		t.Fatal(err)
	}
	h.ServeBlobs(store)
	for _, s := range strings.Split(os.Getenv(natGrant), ",") {
		id, err := peer.Decode(s)
		if err != nil {
			t.Fatal(err)
		}
		h.GrantBlob(id, d, time.Hour)
	}
	if err := h.Advertise(ctx, "gpu"); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("READY %s %s\n", h.ID(), d)
}

func hasCircuit(addrs []multiaddr.Multiaddr) bool {
	for _, a := range addrs {
		if _, err := a.ValueForProtocol(multiaddr.P_CIRCUIT); err == nil {
			return true
		}
	}
	return false
}

func natRequest(ctx context.Context, t *testing.T, h *Host) {
	prov, err := peer.Decode(os.Getenv(natProvider))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDigest(os.Getenv(natDigest))
	if err != nil {
		t.Fatal(err)
	}
	var info peer.AddrInfo
	for pi := range h.FindProviders(ctx, "gpu") {
		if pi.ID == prov {
			info = pi
		}
	}
	if info.ID == "" {
		t.Fatal("provider not found in the DHT")
	}
	dhtCircuit := hasCircuit(info.Addrs)
	if !dhtCircuit { // the DHT server knew no relay address: build it
		ma, _ := multiaddr.NewMultiaddr(strings.Split(os.Getenv(natBoot), ",")[0] + "/p2p-circuit")
		info.Addrs = append(info.Addrs, ma)
	}
	if err := h.Connect(ctx, info); err != nil {
		t.Fatal(err)
	}
	// How the first connection came: through the relay, or directly
	// (the provider had dialled this requester before, for the DHT).
	first := "relay"
	if h.LibP2P().Network().Connectedness(prov) == network.Connected {
		first = "direct"
	}
	dir := t.TempDir()
	relayRes := "relay=ok"
	if err := h.FetchBlob(network.WithAllowLimitedConn(ctx, "spare-test"), prov, d, filepath.Join(dir, "1"), FetchOptions{}); err != nil {
		relayRes = "relay=failed:" + strings.ReplaceAll(err.Error(), " ", "_")
	}
	// The provider's hole-punching service starts once it has learnt its
	// public address, and it upgrades relayed connections that arrive
	// after that: a provider that has just started may need a second one.
	direct := "direct=none"
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	reconnect := time.NewTicker(3 * time.Second)
	defer reconnect.Stop()
wait:
	for {
		for _, c := range h.LibP2P().Network().ConnsToPeer(prov) {
			if !c.Stat().Limited {
				direct = "direct=" + c.RemoteMultiaddr().String() + "," + strings.ToLower(c.Stat().Direction.String())
				break wait
			}
		}
		select {
		case <-deadline:
			break wait
		case <-reconnect.C:
			_ = h.LibP2P().Network().ClosePeer(prov)
			if err := h.Connect(ctx, info); err != nil {
				t.Logf("reconnecting through the relay: %v", err)
			}
		case <-tick.C:
		}
	}
	if direct != "direct=none" {
		if err := h.FetchBlob(ctx, prov, d, filepath.Join(dir, "2"), FetchOptions{}); err != nil {
			direct += ",fetch-failed"
		} else {
			direct += ",fetch-ok"
		}
	}
	ok, failed := h.HolePunches()
	fmt.Printf("RESULT %s %s dht-had-circuit-addr=%v punched=%d/%d first=%s\n", relayRes, direct, dhtCircuit, ok, ok+failed, first)
}

// punchCounts reads "punched=OK/TOTAL" (Host.HolePunches as a child
// prints it) into its successes and failures.
func punchCounts(field string) (ok, failed int, err error) {
	var total int
	if _, err := fmt.Sscanf(field, "punched=%d/%d", &ok, &total); err != nil {
		return 0, 0, fmt.Errorf("%q: %w", field, err)
	}
	return ok, total - ok, nil
}
