package provider

import (
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// IOUs says whose IOUs a provider takes. Without a chain (Config.Chain
// nil) a job is paid in the embedded ledger's promises: a requester's
// deposit is its word and a voucher an IOU, worth what the requester's
// honesty is worth. On the public Spare network a provider takes them only
// from its friends: the peers its owner names here or on the host's
// allow-list (p2p.Config.AllowPeers). In a private pool (p2p.Config.Pool)
// every peer is one the pool let in, and all are taken.
type IOUs struct {
	// FromStrangers takes IOUs from anyone on the public network: the
	// owner accepts that a stranger may walk away owing.
	FromStrangers bool
	// Friends are the peers whose IOUs are taken.
	Friends []peer.ID
}

// IOURefusedShown is how long the status sentence says that work was
// refused from a stranger paying in IOUs.
const IOURefusedShown = 10 * time.Minute

// SetIOUs replaces whose IOUs are taken, for proposals from now on.
func (p *Provider) SetIOUs(u IOUs) {
	u.Friends = slices.Clone(u.Friends)
	p.mu.Lock()
	p.ious = u
	p.mu.Unlock()
}

// SetIOUPolicy applies the owner's settings (node.IOUMarket): they add
// to Config.IOUs, which the command line set, and never take from it.
func (p *Provider) SetIOUPolicy(fromStrangers bool, friends []peer.ID) {
	u := IOUs{FromStrangers: p.cfg.IOUs.FromStrangers || fromStrangers, Friends: slices.Clone(p.cfg.IOUs.Friends)}
	for _, f := range friends {
		if !slices.Contains(u.Friends, f) {
			u.Friends = append(u.Friends, f)
		}
	}
	p.SetIOUs(u)
}

// iouRefusal refuses a proposal paid in IOUs from a stranger on the public
// network; nil when the job may go on. The refusal is remembered for the
// status sentence.
func (p *Provider) iouRefusal(from peer.ID, now time.Time) *market.Refusal {
	if p.cfg.Chain != nil || p.cfg.Host.Network() != "public" || p.cfg.Host.OnAllowList(from) {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ious.FromStrangers || slices.Contains(p.ious.Friends, from) {
		return nil
	}
	p.iouRefused = now
	return &market.Refusal{Code: market.RefuseIOUStranger, Message: "this provider is on the public network and pays out in IOUs " +
		"(the embedded ledger), which it takes only from its own pool and the peers its owner names; pay on a chain (--network), " +
		"or ask its owner to name your peer ID " + from.String()}
}

// describeIOUs adds to the status sentence that work was refused from a
// stranger paying in IOUs, while that is recent.
func (p *Provider) describeIOUs(s *localapi.Status, now time.Time) {
	p.mu.Lock()
	at := p.iouRefused
	p.mu.Unlock()
	if at.IsZero() || now.Sub(at) > IOURefusedShown {
		return
	}
	ago := max(now.Sub(at).Round(time.Minute), time.Minute)
	s.Sentence += fmt.Sprintf(" Work was refused %s ago from a stranger paying in IOUs: take IOUs from strangers in Settings, or name the peer.",
		shortDuration(ago))
	if s.Sentence[0] == ' ' {
		s.Sentence = s.Sentence[1:]
	}
}

func shortDuration(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
