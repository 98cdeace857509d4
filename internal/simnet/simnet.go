// Package simnet builds, for tests, a small simulated internet out of
// network namespaces on this machine: a backbone namespace, hosts with
// "public" addresses hanging off it, and homes behind routers that NAT
// the way home routers do (full-cone, port-restricted, symmetric).
//
//	pub: the backbone, 11.n.0.1 for each site n
//	public site n:  one host, 11.n.0.2, no NAT
//	NAT site n:     192.168.n.2 ── router 192.168.n.1 | 11.n.0.2 ── pub
//
// The 11.0.0.0/8 addresses are "public" because libp2p builds relay and
// hole-punching addresses only from public ones; no route leads out of
// these namespaces, so nothing reaches the real owners. Everything is
// removed when the test ends. It needs root, ip (iproute2) and
// iptables.
package simnet

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/sparegpu/spare/internal/testenv"
)

// NAT is how a home router maps and filters.
type NAT string

// The NAT types of the simulated internet's home routers.
const (
	// FullCone: one address and port per inside socket, whoever it talks
	// to (MASQUERADE keeps the source port when it is free), and anyone
	// may send to it: every inbound packet is forwarded to the one host
	// inside (DNAT of the whole WAN address, a "DMZ host").
	FullCone NAT = "full-cone"
	// PortRestricted: the same mapping, but only the address and port an
	// inside socket sent to may answer (conntrack admits ESTABLISHED
	// packets only). The usual home router.
	PortRestricted NAT = "port-restricted"
	// Symmetric: a new random port for every destination (MASQUERADE
	// --random-fully), answers only from that destination.
	Symmetric NAT = "symmetric"
)

// World is one simulated internet: its backbone namespace and the sites
// added to it.
type World struct {
	t testing.TB
	// ID tells this world's namespaces and links apart from those of
	// other tests running beside it (the process ID).
	ID int
	// Pub is the backbone namespace.
	Pub string
}

// New builds the backbone namespace, named prefix followed by the world's
// ID (prefix at most 6 characters: link names are short).
func New(t testing.TB, prefix string) *World {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "ip", "iproute2")
	testenv.NeedCommand(t, "iptables", "iptables")
	w := &World{t: t, ID: os.Getpid() % 100000}
	w.Pub = fmt.Sprintf("%s%d", prefix, w.ID)
	AddNetns(t, w.Pub)
	w.In(w.Pub, "ip", "link", "set", "lo", "up")
	w.In(w.Pub, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	return w
}

// Sh runs a command and fails the test when it fails.
func Sh(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", args, err, out)
	}
}

// AddNetns adds a network namespace that the test's end removes.
func AddNetns(t testing.TB, ns string) {
	t.Helper()
	Sh(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
}

// In runs a command in namespace ns and fails the test when it fails.
func (w *World) In(ns string, args ...string) {
	w.t.Helper()
	Sh(w.t, append([]string{"ip", "netns", "exec", ns}, args...)...)
}

// Router is the namespace of NAT site n's router.
func (w *World) Router(n int) string { return fmt.Sprintf("sprtr%d-%d", w.ID, n) }

// WAN is site n's public address: its router's, or its host's.
func WAN(n int) string { return fmt.Sprintf("11.%d.0.2", n) }

// NATSite adds a home behind a router with the given NAT type as site n
// and returns the home's namespace, whose host is 192.168.n.2.
func (w *World) NATSite(n int, nat NAT) string {
	w.t.Helper()
	switch nat {
	case FullCone, PortRestricted, Symmetric:
	default:
		w.t.Fatalf("unknown NAT type %q", nat)
	}
	rtr, priv := w.Router(n), fmt.Sprintf("sppriv%d-%d", w.ID, n)
	AddNetns(w.t, rtr)
	AddNetns(w.t, priv)
	up, down := fmt.Sprintf("spu%d-%d", w.ID, n), fmt.Sprintf("spd%d-%d", w.ID, n) // pub side, private side
	Sh(w.t, "ip", "link", "add", up, "netns", w.Pub, "type", "veth", "peer", "name", "wan", "netns", rtr)
	Sh(w.t, "ip", "link", "add", down, "netns", priv, "type", "veth", "peer", "name", "lan", "netns", rtr)
	w.In(w.Pub, "ip", "addr", "add", fmt.Sprintf("11.%d.0.1/24", n), "dev", up)
	w.In(rtr, "ip", "addr", "add", WAN(n)+"/24", "dev", "wan")
	w.In(rtr, "ip", "addr", "add", fmt.Sprintf("192.168.%d.1/24", n), "dev", "lan")
	w.In(priv, "ip", "addr", "add", fmt.Sprintf("192.168.%d.2/24", n), "dev", down)
	for ns, links := range map[string][]string{w.Pub: {up}, rtr: {"lo", "wan", "lan"}, priv: {"lo", down}} {
		for _, l := range links {
			w.In(ns, "ip", "link", "set", l, "up")
		}
	}
	w.In(rtr, "ip", "route", "add", "default", "via", fmt.Sprintf("11.%d.0.1", n))
	w.In(priv, "ip", "route", "add", "default", "via", fmt.Sprintf("192.168.%d.1", n))
	w.In(rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	inside := fmt.Sprintf("192.168.%d.0/24", n)
	masq := []string{"iptables", "-t", "nat", "-A", "POSTROUTING", "-s", inside, "-o", "wan", "-j", "MASQUERADE"}
	if nat == Symmetric {
		masq = append(masq, "--random-fully")
	}
	w.In(rtr, masq...)
	if nat == FullCone {
		w.In(rtr, "iptables", "-t", "nat", "-A", "PREROUTING", "-i", "wan", "-j", "DNAT", "--to-destination", fmt.Sprintf("192.168.%d.2", n))
		w.In(rtr, "iptables", "-A", "FORWARD", "-i", "wan", "-o", "lan", "-j", "ACCEPT")
	}
	w.In(rtr, "iptables", "-A", "FORWARD", "-i", "wan", "-o", "lan", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
	w.In(rtr, "iptables", "-A", "FORWARD", "-i", "wan", "-o", "lan", "-j", "DROP")
	// Unsolicited packets to the router itself are dropped before conntrack
	// records them, as home routers do: a recorded one would take the port a
	// later outgoing packet needs, and the NAT would pick another.
	w.In(rtr, "iptables", "-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP")
	return priv
}

// PublicSite adds a host with a public address, 11.n.0.2, routed through
// pub (11.n.0.1) with no NAT, and returns its namespace.
func (w *World) PublicSite(n int) string {
	w.t.Helper()
	ns := fmt.Sprintf("sppubh%d-%d", w.ID, n)
	AddNetns(w.t, ns)
	up := fmt.Sprintf("spu%d-%d", w.ID, n)
	Sh(w.t, "ip", "link", "add", up, "netns", w.Pub, "type", "veth", "peer", "name", "eth0", "netns", ns)
	w.In(w.Pub, "ip", "addr", "add", fmt.Sprintf("11.%d.0.1/24", n), "dev", up)
	w.In(ns, "ip", "addr", "add", WAN(n)+"/24", "dev", "eth0")
	w.In(w.Pub, "ip", "link", "set", up, "up")
	w.In(ns, "ip", "link", "set", "lo", "up")
	w.In(ns, "ip", "link", "set", "eth0", "up")
	w.In(ns, "ip", "route", "add", "default", "via", fmt.Sprintf("11.%d.0.1", n))
	return ns
}

// Meter counts the bytes the backbone forwards between two sites, both
// ways: what crossed the simulated internet from one to the other with
// no third host in between.
type Meter struct {
	w    *World
	name string
}

// Between starts counting the bytes forwarded between sites a and b.
func (w *World) Between(a, b int) *Meter {
	w.t.Helper()
	m := &Meter{w: w, name: fmt.Sprintf("simnet-%d-%d", a, b)}
	for _, d := range [][2]int{{a, b}, {b, a}} {
		// ACCEPT is the backbone's policy anyway: the rule only counts.
		w.In(w.Pub, "iptables", "-I", "FORWARD", "-s", WAN(d[0]), "-d", WAN(d[1]),
			"-m", "comment", "--comment", m.name, "-j", "ACCEPT")
	}
	return m
}

// Bytes is what the meter has counted so far.
func (m *Meter) Bytes() int64 {
	m.w.t.Helper()
	out, err := exec.Command("ip", "netns", "exec", m.w.Pub, "iptables", "-nvxL", "FORWARD").CombinedOutput()
	if err != nil {
		m.w.t.Fatalf("reading the backbone's counters: %v: %s", err, out)
	}
	var n int64
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, "/* "+m.name+" */") {
			continue
		}
		f := strings.Fields(line)
		b, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			m.w.t.Fatalf("a counter line %q: %v", line, err)
		}
		n += b
	}
	return n
}
