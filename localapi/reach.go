package localapi

import (
	"net/netip"
	"strconv"
	"strings"
)

// ReachLine says in a sentence for the owner how other nodes reach this
// one (Status.Reach, the daemon's p2p verdict) and, when not directly,
// what the owner can do; "" when the daemon does not say (no p2p host).
// spare status and the app's Status page both show it.
func (s Status) ReachLine() string {
	fix := "turn on UPnP in your router, or forward " + s.forwardPort() + " to this computer"
	switch s.Reach {
	case "direct":
		return "Reachable directly: requesters connect straight to this computer."
	case "hole-punching":
		return "Reachable through hole punching: requesters meet this computer through a relay, then connect directly. To be reached directly, " + fix + "."
	case "relay-only": // RelayOnly
		return "Only reachable through a relay: jobs are refused. To take jobs, " + fix + "."
	case "unknown":
		return "Still checking with other nodes how they reach this computer."
	}
	return ""
}

// RelayOnly says the node is reached only through a relay, so
// requesters cannot run jobs on it (ReachLine says what to do).
func (s Status) RelayOnly() bool { return s.Reach == "relay-only" }

// forwardPort names the ports this node listens on, as the owner would
// forward them on the router ("TCP and UDP port 40123"), read from the
// status' addresses: TCP, and UDP where QUIC listens; of each the first
// on a local (private, loopback or link-local) IP, else the first; "a
// port" when none says. Without --listen the node keeps its ports from
// one start to the next (p2p.PortsFile), so the forwarded port stays
// right.
func (s Status) forwardPort() string {
	tcp := firstPort(s.Addrs, "tcp")
	udp := firstPort(s.Addrs, "udp")
	switch {
	case tcp == "":
		return "a port"
	case udp == "":
		return "TCP port " + tcp
	case udp == tcp:
		return "TCP and UDP port " + tcp
	}
	return "TCP port " + tcp + " and UDP port " + udp
}

// firstPort is the port of the first address of transport ("tcp", or
// "udp" for QUIC) on a local IP, else of the first address of it.
func firstPort(addrs []string, transport string) string {
	fallback := ""
	for _, a := range addrs {
		ip, port, ok := portAddr(a, transport)
		if !ok {
			continue
		}
		if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			return port
		}
		if fallback == "" {
			fallback = port
		}
	}
	return fallback
}

// portAddr reads "/ip4/IP/tcp/PORT/..." (or /ip6/), or for "udp"
// "/ip4/IP/udp/PORT/quic-v1/..."; ok is false for anything else, a
// port 0 or one out of range.
func portAddr(ma, transport string) (ip netip.Addr, port string, ok bool) {
	f := strings.Split(ma, "/")
	if len(f) < 5 || f[0] != "" || (f[1] != "ip4" && f[1] != "ip6") || f[3] != transport {
		return netip.Addr{}, "", false
	}
	if transport == "udp" && (len(f) < 6 || f[5] != "quic-v1") {
		return netip.Addr{}, "", false
	}
	ip, err := netip.ParseAddr(f[2])
	if err != nil {
		return netip.Addr{}, "", false
	}
	n, err := strconv.ParseUint(f[4], 10, 16)
	if err != nil || n == 0 {
		return netip.Addr{}, "", false
	}
	return ip, f[4], true
}
