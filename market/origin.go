package market

import (
	"net/netip"
	"slices"

	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Origin is the network a provider's traffic comes from, as far as the
// requester can see it: the /24 of an IPv4 address ("ip4:203.0.113.0/24"),
// the /48 of an IPv6 address ("ip6:2001:db8:7::/48"), or OriginRelayed.
// Replicas of one job come from distinct origins, so that a crowd of
// identities on one network counts once.
//
// Every IP address counts the same way, whatever its scope: a LAN's
// private addresses (10/8, 172.16/12, 192.168/16, fc00::/7), CGNAT's
// 100.64/10, link-local and loopback addresses group by /24 or /48 like
// public ones. A household's machines on one LAN therefore are one
// origin (they also share one public address, which is how a requester
// on the internet sees them), and tests on one machine tell providers
// apart by listening on 127.0.1.1, 127.0.2.1, … An IPv4 address mapped
// into IPv6 counts as IPv4.
type Origin string

// OriginRelayed is the one origin shared by every provider reached only
// through a circuit relay: the relay hides the provider's address, and
// anyone can use a public relay, so all of them together count once.
const OriginRelayed Origin = "relayed"

// OriginsOf returns the distinct origins of a peer's connection addresses
// (the remote end of each open connection: the address the requester
// observes, which the peer cannot choose freely, unlike the addresses it
// announces), sorted. Relayed addresses (/p2p-circuit) give
// OriginRelayed, but only when the peer has no direct address; addresses
// without an IP (DNS names, unknown protocols) give nothing. No address:
// nil, the origin is not known (not connected yet).
func OriginsOf(addrs []multiaddr.Multiaddr) []Origin {
	var out []Origin
	relayed := false
	for _, a := range addrs {
		if a == nil {
			continue
		}
		if _, err := a.ValueForProtocol(multiaddr.P_CIRCUIT); err == nil {
			relayed = true
			continue
		}
		ip, err := manet.ToIP(a)
		if err != nil {
			continue
		}
		addr, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if o := originOfIP(addr); !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	if len(out) == 0 && relayed {
		return []Origin{OriginRelayed}
	}
	slices.Sort(out)
	return out
}

// originOfIP is addr's /24 (IPv4) or /48 (IPv6).
func originOfIP(addr netip.Addr) Origin {
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		p, _ := addr.Prefix(24)
		return Origin("ip4:" + p.String())
	}
	p, _ := addr.Prefix(48)
	return Origin("ip6:" + p.String())
}

// sharesOrigin reports whether any of a is in b.
func sharesOrigin(a []Origin, b map[Origin]bool) bool {
	for _, o := range a {
		if b[o] {
			return true
		}
	}
	return false
}
