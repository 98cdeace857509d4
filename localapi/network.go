package localapi

import (
	"fmt"
	"strings"
)

// SettlesLedger is Status.Settles for money in the embedded ledger.
const SettlesLedger = "ledger"

// NetworkLine says which network the node is on, in a line for the
// owner: its name, where it meets its peers, how money settles and how
// many Spare peers are connected; "" before the node's p2p host runs.
// spare status and the app's Status page both show it.
func (s Status) NetworkLine() string {
	if s.Network == "" {
		return ""
	}
	var parts []string
	switch {
	case s.Pool == "" && s.Network == "public":
	case s.Pool == "":
		parts = append(parts, "the public Spare network")
	case s.Pool == s.Network:
		parts = append(parts, "a private pool")
	default:
		parts = append(parts, "private pool "+s.Pool)
	}
	switch s.Settles {
	case "":
	case SettlesLedger:
		parts = append(parts, "IOUs in the embedded ledger")
	default:
		parts = append(parts, "money settles on chain "+s.Settles)
	}
	name := s.Network
	if len(parts) > 0 {
		name += " (" + strings.Join(parts, "; ") + ")"
	}
	peers := fmt.Sprintf("%d Spare peers connected", s.SparePeers)
	if s.SparePeers == 1 {
		peers = "1 Spare peer connected"
	}
	return name + ", " + peers
}
