package p2p

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// hostPorts are the TCP and QUIC ports h listens on.
func hostPorts(t *testing.T, h *Host) (tcp, udp int) {
	t.Helper()
	tcp, udp = listenPorts(h.LibP2P().Network().ListenAddresses())
	if tcp == 0 || udp == 0 {
		t.Fatalf("host listens on %v: want a TCP and a QUIC port", h.LibP2P().Network().ListenAddresses())
	}
	return tcp, udp
}

// portsHost starts a host on dir with the default listen addresses (on
// loopback), its WARN and INFO lines in logs.
func portsHost(t *testing.T, dir string, logs *syncBuffer) *Host {
	t.Helper()
	return newTestHost(t, Config{DataDir: dir, NoMDNS: true, StablePorts: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
}

// TestPortsStable: without --listen a host picks one port number for TCP
// and QUIC, saves it (0600) and listens on it again after a restart on
// the same data directory, so a port forwarded on the router stays
// right. A port another program took meanwhile: a new one, said in a
// WARN, saved in its place and kept from then on.
func TestPortsStable(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	h := portsHost(t, dir, &logs)
	tcp, udp := hostPorts(t, h)
	if tcp != udp {
		t.Errorf("TCP port %d, UDP port %d: want one number to forward", tcp, udp)
	}
	st, err := os.Stat(filepath.Join(dir, PortsFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ports file: %v, %v", st, err)
	}
	h.Close()

	h = portsHost(t, dir, &logs)
	if t2, u2 := hostPorts(t, h); t2 != tcp || u2 != udp {
		t.Errorf("after a restart: TCP %d, UDP %d; want %d, %d", t2, u2, tcp, udp)
	}
	h.Close()

	// Another program takes the TCP port.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(tcp))
	if err != nil {
		t.Fatal(err)
	}
	h = portsHost(t, dir, &logs)
	l.Close()
	t3, u3 := hostPorts(t, h)
	if t3 == tcp {
		t.Fatalf("listening on the taken port %d", tcp)
	}
	if !strings.Contains(logs.String(), "the listening port saved from an earlier start is taken") || !strings.Contains(logs.String(), "tcp="+strconv.Itoa(tcp)) {
		t.Errorf("no WARN naming the taken port:\n%s", logs.String())
	}
	h.Close()
	if p, err := readPorts(dir); err != nil || p.TCP != t3 || p.UDP != u3 {
		t.Errorf("ports file after the fallback: %+v, %v; want %d, %d", p, err, t3, u3)
	}
	h = portsHost(t, dir, &logs)
	if t4, u4 := hostPorts(t, h); t4 != t3 || u4 != u3 {
		t.Errorf("after the fallback and a restart: TCP %d, UDP %d; want %d, %d", t4, u4, t3, u3)
	}
}

// TestPortsHostileFile: a ports file that is garbage, huge, of another
// version, naming privileged or impossible ports, with unknown fields or
// data after it, is ignored with a WARN; the host starts on a new port
// and rewrites the file (0600). (Row N11 of docs/threat-model.md.)
func TestPortsHostileFile(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"garbage", "{{{", "not a ports file"},
		{"huge", `{"version": 1, "tcp": 40000, "udp": 40000, "x": "` + strings.Repeat("a", 4096) + `"}`, "larger than 1024 bytes"},
		{"another version", `{"version": 2, "tcp": 40000, "udp": 40000}`, "version: 2"},
		{"privileged port", `{"version": 1, "tcp": 22, "udp": 40000}`, "tcp: 22"},
		{"port zero", `{"version": 1, "tcp": 40000, "udp": 0}`, "udp: 0"},
		{"port too high", `{"version": 1, "tcp": 70000, "udp": 40000}`, "tcp: 70000"},
		{"negative port", `{"version": 1, "tcp": -1, "udp": 40000}`, "tcp: -1"},
		{"a string port", `{"version": 1, "tcp": "40000", "udp": 40000}`, "not a ports file"},
		{"unknown field", `{"version": 1, "tcp": 40000, "udp": 40000, "ip": "1.2.3.4"}`, "unknown field"},
		{"data after", `{"version": 1, "tcp": 40000, "udp": 40000} {"version": 1}`, "data after the object"},
		{"an array", `[40000]`, "not a ports file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, PortsFile)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			h := portsHost(t, dir, &logs)
			tcp, udp := hostPorts(t, h)
			if !strings.Contains(logs.String(), "listening ports file ignored") || !strings.Contains(logs.String(), tc.want) {
				t.Errorf("no WARN saying %q:\n%s", tc.want, logs.String())
			}
			p, err := readPorts(dir)
			if err != nil || p.TCP != tcp || p.UDP != udp {
				t.Errorf("rewritten file: %+v, %v; want %d, %d", p, err, tcp, udp)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("rewritten file's mode: %v, %v", st.Mode(), err)
			}
		})
	}
}

// TestPortsChosenListen: with --listen (Config.Listen) the ports are the
// caller's, and a host that does not keep its ports (spare submit beside
// the node on its data directory) neither takes the saved one nor
// replaces it.
func TestPortsChosenListen(t *testing.T) {
	dir := t.TempDir()
	la, err := ParseMultiaddrs(LoopbackListen)
	if err != nil {
		t.Fatal(err)
	}
	newTestHost(t, Config{DataDir: dir, NoMDNS: true, StablePorts: true, Listen: la})
	if _, err := os.Stat(filepath.Join(dir, PortsFile)); !os.IsNotExist(err) {
		t.Errorf("a ports file with --listen: %v", err)
	}
	var logs syncBuffer
	node := portsHost(t, dir, &logs)
	tcp, udp := hostPorts(t, node)
	submit := newTestHost(t, Config{DataDir: dir, NoMDNS: true})
	if t2, _ := hostPorts(t, submit); t2 == tcp {
		t.Errorf("a host without StablePorts listens on the node's port %d", tcp)
	}
	if p, err := readPorts(dir); err != nil || p.TCP != tcp || p.UDP != udp {
		t.Errorf("ports file after a host without StablePorts: %+v, %v; want %d, %d", p, err, tcp, udp)
	}
}
