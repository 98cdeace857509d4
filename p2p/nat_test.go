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
	"github.com/multiformats/go-multiaddr"
	"github.com/sparegpu/spare/internal/testenv"
)

// Environment of the helper processes TestNATRelay starts.
const (
	natRole     = "SPARE_P2P_NAT_ROLE" // relay, provider or requester
	natBoot     = "SPARE_P2P_NAT_BOOT"
	natProvider = "SPARE_P2P_NAT_PROVIDER"
	natDigest   = "SPARE_P2P_NAT_DIGEST"
	natTimeout  = 90 * time.Second
)

// TestNATRelay builds, with network namespaces on this machine only,
//
//	pub  11.77.0.1 ── router 11.77.0.2 | 192.168.77.1 (MASQUERADE, no inbound) ── priv 192.168.77.2
//
// The "public" side uses 11.77.0.0/24 because autorelay only builds relay
// addresses from a relay's public addresses; no route leads out of these
// namespaces, so nothing reaches the real owner of that range.
//
// It runs three processes of this test binary: a bootstrap/relay node and
// a requester in pub, a provider in priv with no inbound port. The requester
// finds the provider in the DHT, fetches a blob through the relay, then
// waits for hole punching (DCUtR) to give a direct connection and fetches
// again over it. The relay path must work; the direct one is reported.
func TestNATRelay(t *testing.T) {
	if role := os.Getenv(natRole); role != "" {
		natChild(t, role)
		return
	}
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "ip", "iproute2")
	testenv.NeedCommand(t, "iptables", "iptables")
	id := os.Getpid() % 100000
	pub, rtr, priv := fmt.Sprintf("sppub%d", id), fmt.Sprintf("sprtr%d", id), fmt.Sprintf("sppriv%d", id)
	for _, ns := range []string{pub, rtr, priv} {
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	va, vb, vc, vd := fmt.Sprintf("spa%d", id), fmt.Sprintf("spb%d", id), fmt.Sprintf("spc%d", id), fmt.Sprintf("spd%d", id)
	in := func(ns string, args ...string) { sh(t, append([]string{"ip", "netns", "exec", ns}, args...)...) }
	sh(t, "ip", "link", "add", va, "netns", pub, "type", "veth", "peer", "name", vb, "netns", rtr)
	sh(t, "ip", "link", "add", vc, "netns", priv, "type", "veth", "peer", "name", vd, "netns", rtr)
	in(pub, "ip", "addr", "add", "11.77.0.1/24", "dev", va)
	in(rtr, "ip", "addr", "add", "11.77.0.2/24", "dev", vb)
	in(rtr, "ip", "addr", "add", "192.168.77.1/24", "dev", vd)
	in(priv, "ip", "addr", "add", "192.168.77.2/24", "dev", vc)
	for ns, links := range map[string][]string{pub: {"lo", va}, rtr: {"lo", vb, vd}, priv: {"lo", vc}} {
		for _, l := range links {
			in(ns, "ip", "link", "set", l, "up")
		}
	}
	in(priv, "ip", "route", "add", "default", "via", "192.168.77.1")
	in(rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	in(rtr, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "192.168.77.0/24", "-o", vb, "-j", "MASQUERADE")
	in(rtr, "iptables", "-A", "FORWARD", "-i", vb, "-o", vd, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
	in(rtr, "iptables", "-A", "FORWARD", "-i", vb, "-o", vd, "-j", "DROP")

	ctx, cancel := context.WithTimeout(context.Background(), natTimeout)
	defer cancel()
	relay := startNATChild(ctx, t, pub, "relay", nil)
	boot := relay.want(t, "ADDR")[0]
	prov := startNATChild(ctx, t, priv, "provider", []string{natBoot + "=" + boot})
	ready := prov.want(t, "READY")
	req := startNATChild(ctx, t, pub, "requester", []string{natBoot + "=" + boot, natProvider + "=" + ready[0], natDigest + "=" + ready[1]})
	res := req.want(t, "RESULT")
	t.Logf("provider behind NAT: %s", strings.Join(res, " "))
	if res[0] != "relay=ok" {
		t.Fatalf("relayed transfer failed: %v", res)
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
	timeout := time.After(natTimeout)
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
	ctx, cancel := context.WithTimeout(context.Background(), natTimeout)
	defer cancel()
	listen, _ := ParseMultiaddrs(DefaultListen)
	cfg := Config{Listen: listen, NoMDNS: true, NoPortMap: true, Logger: testLogger}
	if b := os.Getenv(natBoot); b != "" {
		a, err := multiaddr.NewMultiaddr(b)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Bootstrap = []multiaddr.Multiaddr{a}
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
		for _, a := range h.Addrs() {
			if strings.Contains(a.String(), "/tcp/") {
				fmt.Printf("ADDR %s\n", a)
				break
			}
		}
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
		ma, _ := multiaddr.NewMultiaddr(os.Getenv(natBoot) + "/p2p-circuit")
		info.Addrs = append(info.Addrs, ma)
	}
	if err := h.Connect(ctx, info); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	relayRes := "relay=ok"
	if err := h.FetchBlob(network.WithAllowLimitedConn(ctx, "spare-test"), prov, d, filepath.Join(dir, "1"), FetchOptions{}); err != nil {
		relayRes = "relay=failed:" + strings.ReplaceAll(err.Error(), " ", "_")
	}
	direct := "direct=none"
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		for _, c := range h.LibP2P().Network().ConnsToPeer(prov) {
			if !c.Stat().Limited {
				direct = "direct=" + c.RemoteMultiaddr().String()
				break wait
			}
		}
		select {
		case <-deadline:
			break wait
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
	fmt.Printf("RESULT %s %s dht-had-circuit-addr=%v\n", relayRes, direct, dhtCircuit)
}
