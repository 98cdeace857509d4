package p2p

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multiaddr"
)

// MaxPoolName bounds a pool's name.
const MaxPoolName = 64

// netNames are the names that keep one Spare network apart from another:
// the public Spare network (Config.Pool empty) uses the historical
// constants; a private pool derives its own from its name, so its hosts
// share no DHT, ads topic, mDNS service or rendezvous with anyone else.
type netNames struct {
	pool       string      // "" for the public Spare network
	dhtPrefix  string      // Spare's DHT protocol prefix
	adsTopic   string      // the ads topic
	mdns       string      // the DNS-SD service on the LAN
	rendezvous string      // what the public rendezvous key is derived from
	marker     protocol.ID // spoken by every host of this network (see poolGate)
}

// poolMarkerPrefix starts every network's marker protocol.
const poolMarkerPrefix = "/spare/pool/"

// CheckPool says whether name may name a private pool (Config.Pool):
// 1 to MaxPoolName lower-case letters, digits, '-' and '.'.
func CheckPool(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty pool name", ErrBadConfig)
	}
	if len(name) > MaxPoolName {
		return fmt.Errorf("%w: pool name of %d bytes, at most %d", ErrBadConfig, len(name), MaxPoolName)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return fmt.Errorf("%w: pool name %q: use lower-case letters, digits, '-' and '.'", ErrBadConfig, name)
		}
	}
	return nil
}

func networkNames(pool string) (netNames, error) {
	if pool == "" {
		return netNames{dhtPrefix: DHTPrefix, adsTopic: AdsTopic, mdns: MDNSService,
			rendezvous: "spare/public", marker: poolMarkerPrefix + "public/1.0.0"}, nil
	}
	if err := CheckPool(pool); err != nil {
		return netNames{}, err
	}
	sum := sha256.Sum256([]byte("spare/pool/v1/" + pool))
	id := hex.EncodeToString(sum[:8])
	return netNames{pool: pool, dhtPrefix: DHTPrefix + "/pool/" + id, adsTopic: AdsTopic + "/pool/" + id,
		mdns: "_sp-" + id[:10] + "._udp", rendezvous: "spare/pool/" + id,
		marker: protocol.ID(poolMarkerPrefix + id + "/1.0.0")}, nil
}

// poolVerdict says whether a Spare peer that identified with protos may
// stay connected: it must speak this network's marker (a Spare node of
// another network, or of the public one seen from a pool, is cut off), and
// be on the allow-list when there is one. A peer that speaks no /spare/
// protocol (a public DHT server, a relay) is not judged. The public
// network also keeps Spare peers that predate markers.
func (n *Host) poolVerdict(p peer.ID, protos []protocol.ID) (keep bool, why string) {
	spare, marker, other := false, false, false
	for _, pr := range protos {
		s := string(pr)
		switch {
		case pr == n.names.marker:
			marker = true
		case len(s) > len(poolMarkerPrefix) && s[:len(poolMarkerPrefix)] == poolMarkerPrefix:
			other = true
		}
		if len(s) > 7 && s[:7] == "/spare/" {
			spare = true
		}
	}
	switch {
	case !spare:
		return true, ""
	case other && !marker:
		return false, "a Spare node of another network"
	case !marker && n.names.pool != "":
		return false, "a Spare node outside this pool"
	case len(n.cfg.AllowPeers) > 0 && !slices.Contains(n.cfg.AllowPeers, p):
		return false, "not on the pool's allow-list"
	}
	return true, ""
}

// allowGater refuses inbound connections from peers off the allow-list
// (Config.AllowPeers). Outbound ones pass (DHT servers, relays): a Spare
// peer among them is cut off once it identifies (poolVerdict).
type allowGater struct{ allow []peer.ID }

func (g allowGater) InterceptPeerDial(peer.ID) bool                                  { return true }
func (g allowGater) InterceptAddrDial(peer.ID, multiaddr.Multiaddr) bool             { return true }
func (g allowGater) InterceptAccept(network.ConnMultiaddrs) bool                     { return true }
func (g allowGater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
func (g allowGater) InterceptSecured(dir network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return dir == network.DirOutbound || slices.Contains(g.allow, p)
}

// OnAllowList reports whether p is on this host's allow-list
// (Config.AllowPeers): a peer the owner named.
func (n *Host) OnAllowList(p peer.ID) bool { return slices.Contains(n.cfg.AllowPeers, p) }
