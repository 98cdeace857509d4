package p2p

import "github.com/multiformats/go-multiaddr"

// ListenAddrs renders the host's addresses with its /p2p/ suffix, as
// people give them to --bootstrap.
func (h *Host) ListenAddrs() []string {
	var out []string
	for _, a := range h.Addrs() {
		if _, err := a.ValueForProtocol(multiaddr.P_P2P); err == nil {
			out = append(out, a.String())
			continue
		}
		pa, err := multiaddr.NewMultiaddr("/p2p/" + h.ID().String())
		if err != nil {
			continue
		}
		out = append(out, a.Encapsulate(pa).String())
	}
	return out
}
