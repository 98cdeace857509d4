package p2p

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/multiformats/go-multiaddr"

	"github.com/sparegpu/spare/internal/atomicfile"
)

// PortsFile keeps, below the data directory, the TCP and UDP (QUIC) ports
// a host listens on when Config.Listen is empty, so that a port its
// owner forwarded on the home router stays the one it listens on after a
// restart.
//
//	{"version": 1, "tcp": 40123, "udp": 40123}
const PortsFile = "p2p/ports.json"

// Bounds on the ports file: its size, and the ports it may name (none a
// privileged port, which a host not run as root cannot take).
const (
	maxPortsFile = 1024
	minSavedPort = 1024
)

// stablePorts says whether the host keeps its ports (Config.StablePorts).
func (c Config) stablePorts() bool { return c.StablePorts && len(c.Listen) == 0 && c.DataDir != "" }

// savedPorts is the ports file.
type savedPorts struct {
	Version int `json:"version"`
	TCP     int `json:"tcp"`
	UDP     int `json:"udp"`
}

// readPorts reads the ports file; an error says what is wrong with it
// (fs.ErrNotExist: none yet).
func readPorts(dataDir string) (savedPorts, error) {
	f, err := os.Open(filepath.Join(dataDir, PortsFile))
	if err != nil {
		return savedPorts{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPortsFile+1))
	if err != nil {
		return savedPorts{}, err
	}
	if len(b) > maxPortsFile {
		return savedPorts{}, fmt.Errorf("larger than %d bytes", maxPortsFile)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var p savedPorts
	if err := d.Decode(&p); err != nil {
		return savedPorts{}, fmt.Errorf("not a ports file: %w", err)
	}
	if d.More() {
		return savedPorts{}, errors.New("not a ports file: data after the object")
	}
	switch {
	case p.Version != 1:
		return savedPorts{}, fmt.Errorf("version: %d, want 1", p.Version)
	case p.TCP < minSavedPort || p.TCP > 65535:
		return savedPorts{}, fmt.Errorf("tcp: %d, want a port from %d to 65535", p.TCP, minSavedPort)
	case p.UDP < minSavedPort || p.UDP > 65535:
		return savedPorts{}, fmt.Errorf("udp: %d, want a port from %d to 65535", p.UDP, minSavedPort)
	}
	return p, nil
}

func writePorts(dataDir string, p savedPorts) error {
	p.Version = 1
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dataDir, filepath.Dir(PortsFile)), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dataDir, PortsFile), append(b, '\n'), 0o600)
}

// stablePorts puts ports into listen addresses that ask for any port
// (/tcp/0, /udp/0/quic-v1): the saved ones when they are free, else one
// number free for both TCP and UDP, so that the owner forwards one port.
// A saved port that is taken is said in a WARN, with the new one.
func stablePorts(dataDir string, listen []multiaddr.Multiaddr, log *slog.Logger) []multiaddr.Multiaddr {
	ip, ok := anyPortIP(listen)
	if !ok {
		return listen
	}
	saved, err := readPorts(dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		log.Warn("listening ports file ignored; it is rewritten with the ports chosen now", "file", filepath.Join(dataDir, PortsFile), "err", err)
	case !portFree(ip, saved.TCP, saved.UDP):
		log.Warn("the listening port saved from an earlier start is taken (another program, or another Spare on this data directory); listening on a new one: forward it on the router instead",
			"tcp", saved.TCP, "udp", saved.UDP)
	default:
		return withPorts(listen, saved.TCP, saved.UDP)
	}
	for range 16 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			break
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if portFree(ip, 0, port) {
			return withPorts(listen, port, port)
		}
	}
	return listen // libp2p picks, and the ports it picked are saved
}

// anyPortIP is the IP of the first listen address that asks for any TCP
// port; ok is false when none does (the caller chose its ports).
func anyPortIP(listen []multiaddr.Multiaddr) (string, bool) {
	for _, a := range listen {
		if p, err := a.ValueForProtocol(multiaddr.P_TCP); err == nil && p == "0" {
			if ip, err := a.ValueForProtocol(multiaddr.P_IP4); err == nil {
				return ip, true
			}
			if ip, err := a.ValueForProtocol(multiaddr.P_IP6); err == nil {
				return ip, true
			}
		}
	}
	return "", false
}

// portFree says whether TCP port tcp (0: not asked) and UDP port udp (0:
// not asked) can be bound on ip now.
func portFree(ip string, tcp, udp int) bool {
	if tcp != 0 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(tcp)))
		if err != nil {
			return false
		}
		l.Close()
	}
	if udp != 0 {
		c, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(udp)))
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// withPorts replaces port 0 in /tcp/0 and /udp/0/quic-v1 addresses.
func withPorts(listen []multiaddr.Multiaddr, tcp, udp int) []multiaddr.Multiaddr {
	out := make([]multiaddr.Multiaddr, 0, len(listen))
	for _, a := range listen {
		out = append(out, withPort(a, tcp, udp))
	}
	return out
}

func withPort(a multiaddr.Multiaddr, tcp, udp int) multiaddr.Multiaddr {
	out := make(multiaddr.Multiaddr, 0, len(a))
	for _, c := range a {
		proto := ""
		switch {
		case c.Code() == multiaddr.P_TCP && c.Value() == "0":
			proto = "tcp"
		case c.Code() == multiaddr.P_UDP && c.Value() == "0":
			proto = "udp"
		}
		if proto == "" {
			out = append(out, c)
			continue
		}
		port := tcp
		if proto == "udp" {
			port = udp
		}
		nc, err := multiaddr.NewComponent(proto, strconv.Itoa(port))
		if err != nil {
			return a
		}
		out = append(out, *nc)
	}
	return out
}

// listenPorts are the TCP and QUIC ports a host listens on (0: none).
func listenPorts(addrs []multiaddr.Multiaddr) (tcp, udp int) {
	for _, a := range addrs {
		if _, err := a.ValueForProtocol(multiaddr.P_QUIC_V1); err == nil && udp == 0 {
			if p, err := a.ValueForProtocol(multiaddr.P_UDP); err == nil {
				udp, _ = strconv.Atoi(p)
			}
			continue
		}
		if p, err := a.ValueForProtocol(multiaddr.P_TCP); err == nil && tcp == 0 {
			if _, err := a.ValueForProtocol(multiaddr.P_WS); err != nil {
				tcp, _ = strconv.Atoi(p)
			}
		}
	}
	return tcp, udp
}

// savePorts keeps the ports the host listens on for the next start, when
// they differ from the file's.
func savePorts(dataDir string, addrs []multiaddr.Multiaddr, log *slog.Logger) {
	tcp, udp := listenPorts(addrs)
	if tcp < minSavedPort || udp < minSavedPort {
		return
	}
	if old, err := readPorts(dataDir); err == nil && old.TCP == tcp && old.UDP == udp {
		return
	}
	if err := writePorts(dataDir, savedPorts{TCP: tcp, UDP: udp}); err != nil {
		log.Warn("saving the listening ports for the next start", "err", err)
		return
	}
	log.Info("listening ports saved for the next start: forward these on the router to be reached directly", "tcp", tcp, "udp", udp)
}
