package p2p

import (
	"net/netip"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// Rendezvous answers are anyone's to publish: a stranger can put many
// provider records for a network's key on the public DHT (threat model
// N5) to fill a lookup with nodes of its own. A lookup so reads many
// answers, dials at most rendezvousPerGroup peers per address group, and
// skips peers it found not to be Spare nodes of its network.
const (
	// maxRendezvousRecords bounds the answers one lookup reads.
	maxRendezvousRecords = 256
	// rendezvousPerGroup bounds the dials one lookup makes into one
	// address group (addrGroup).
	rendezvousPerGroup = 2
	// notSpareFor is how long a peer found through the rendezvous that
	// turned out not to be a Spare node of this network is not dialled
	// again; notSpareMax bounds how many are remembered.
	notSpareFor = 6 * time.Hour
	notSpareMax = 4096
)

// pickRendezvous chooses which of a lookup's answers to dial, in the order
// found: not skipped (this host, connected already, found not Spare),
// holding an address, at most perGroup per address group and at most max
// in all. A peer counts in the group of every address it lists: one that
// lists an address in a full group is passed over, so many peer IDs on a
// few hosts or subnets take few places whatever else they list.
func pickRendezvous(found []peer.AddrInfo, skip func(peer.ID) bool, perGroup, max int) []peer.AddrInfo {
	used := map[string]int{}
	seen := map[peer.ID]bool{}
	var out []peer.AddrInfo
	for _, pi := range found {
		if len(out) == max {
			break
		}
		if seen[pi.ID] || len(pi.Addrs) == 0 || skip(pi.ID) {
			continue
		}
		seen[pi.ID] = true
		groups := map[string]bool{}
		for _, a := range pi.Addrs {
			groups[addrGroup(a)] = true
		}
		full := false
		for g := range groups {
			full = full || used[g] >= perGroup
		}
		if full {
			continue
		}
		for g := range groups {
			used[g]++
		}
		out = append(out, pi)
	}
	return out
}

// addrGroup is the group an address counts in: its public IPv4 /24 or
// IPv6 /48 (one operator's hosts), a private, loopback or link-local IP by
// itself (a household's few machines), a DNS name by itself. A relayed
// address counts in its relay's group.
func addrGroup(a multiaddr.Multiaddr) string {
	var group string
	multiaddr.ForEach(a, func(c multiaddr.Component) bool {
		switch c.Protocol().Code {
		case multiaddr.P_IP4, multiaddr.P_IP6:
			ip, ok := netip.AddrFromSlice(c.RawValue())
			if !ok {
				group = "bad"
				return false
			}
			ip = ip.Unmap()
			switch {
			case ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast():
				group = ip.String()
			case ip.Is4():
				group = netip.PrefixFrom(ip, 24).Masked().String()
			default:
				group = netip.PrefixFrom(ip, 48).Masked().String()
			}
			return false
		case multiaddr.P_DNS, multiaddr.P_DNS4, multiaddr.P_DNS6, multiaddr.P_DNSADDR:
			group = "dns:" + c.Value()
			return false
		}
		return true
	})
	if group == "" {
		return "other:" + a.String()
	}
	return group
}

// notSpare remembers, for notSpareFor and at most notSpareMax at once,
// peers found through the rendezvous that are not Spare nodes of this
// network.
type notSpare struct {
	mu    sync.Mutex
	until map[peer.ID]time.Time
}

func (s *notSpare) add(p peer.ID, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.until == nil {
		s.until = map[peer.ID]time.Time{}
	}
	if len(s.until) >= notSpareMax {
		for q, t := range s.until {
			if now.After(t) || len(s.until) >= notSpareMax {
				delete(s.until, q)
			}
		}
	}
	s.until[p] = now.Add(notSpareFor)
}

func (s *notSpare) has(p peer.ID, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.until[p]
	return ok && now.Before(t)
}
