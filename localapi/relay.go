package localapi

import "fmt"

// RelayState says whether this node relays for other Spare nodes, the
// owner's relay setting (Settings.Relay) read against the machine.
type RelayState string

// Relay states.
const (
	RelayOff     RelayState = "off"     // the owner did not allow it
	RelayMetered RelayState = "metered" // allowed, but the connection is metered
	RelayWaiting RelayState = "waiting" // allowed; waits to be reached directly
	RelayServing RelayState = "serving" // relaying for nodes behind NATs
)

// RelayLine says in a sentence what the node's relay does ("" when the
// daemon does not say: no p2p host).
func (s Status) RelayLine() string {
	switch s.Relay {
	case RelayOff:
		return "Not relaying for other nodes (off in Settings)."
	case RelayMetered:
		return "Not relaying for other nodes: the connection is metered."
	case RelayWaiting:
		return "Relaying allowed: it starts once other nodes can reach this one directly."
	case RelayServing:
		return fmt.Sprintf("Relaying for other nodes: %d holding a reservation, %d connection(s) through this one now.", s.RelayNodes, s.RelayCircuits)
	}
	return ""
}
