package node

import "github.com/sparegpu/spare/localapi"

// Relay is the p2p host's volunteer relay as the owner's relay setting
// (localapi.Settings.Relay) drives it. cmd/spare adapts p2p.Host, reading
// the setting against a metered connection.
type Relay interface {
	// SetRelay applies the owner's consent at once: the relay service
	// starts (serving while this machine is reached directly) or stops.
	SetRelay(allowed bool)
	// DescribeRelay fills the status' relay fields.
	DescribeRelay(*localapi.Status)
}

// applyRelay hands the owner's relay setting to the p2p host, when the
// daemon has one.
func (d *Daemon) applyRelay(s localapi.Settings) {
	if d.cfg.Relay != nil {
		d.cfg.Relay.SetRelay(s.Relay)
	}
}
