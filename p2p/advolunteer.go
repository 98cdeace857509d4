package p2p

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// adVolunteerLocked starts or stops, with the volunteer relay, the ad
// batches (AdBatchProtocol) of a host on the ads topic: a node that
// relays for others is public and unmetered, the owner agreed, and it
// holds every ad anyway. Its answers wait for the relay to serve (AutoNAT
// found the host public). n.relay.mu is held.
func (n *Host) adVolunteerLocked(allowed bool) {
	v := &n.relay
	switch {
	case allowed && v.stopAds == nil && n.ads.topic != nil:
		ctx, cancel := context.WithCancel(n.ctx)
		v.stopAds = cancel
		n.ads.publicOnly.Store(true)
		n.goLoop(func(context.Context) {
			if err := n.VolunteerAds(ctx); err != nil && ctx.Err() == nil {
				n.log.Warn("volunteering the ads of this network", "err", err)
			}
		})
	case !allowed && v.stopAds != nil:
		v.stopAds()
		v.stopAds = nil
	}
}

// PullAds says whether this host is off the ads topic (Config.PullAds).
func (n *Host) PullAds() bool { return n.ads.topic == nil }

// BatchAds asks up to BatchVolunteers volunteers, those connected first,
// then those recorded in the DHT under VolunteerCapability, for the ads
// of capability (QueryAdBatch) and sends every ad taken on the channel,
// which is closed when all answered or ctx ends. The caller drains it or
// ends ctx.
func (n *Host) BatchAds(ctx context.Context, capability string) <-chan Ad {
	out := make(chan Ad)
	go func() {
		defer close(out)
		var wg sync.WaitGroup
		defer wg.Wait()
		asked := map[peer.ID]bool{}
		ask := func(pi peer.AddrInfo) {
			asked[pi.ID] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				if len(pi.Addrs) > 0 {
					if err := n.Connect(ctx, pi); err != nil {
						n.log.Debug("reaching a volunteer", "peer", pi.ID, "err", err)
						return
					}
				}
				b, err := n.QueryAdBatch(ctx, pi.ID, capability, 0)
				if err != nil {
					n.log.Debug("asking a volunteer for ads", "peer", pi.ID, "err", err)
					return
				}
				for _, a := range b.Ads {
					select {
					case out <- a:
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		for _, p := range n.h.Network().Peers() {
			if len(asked) == BatchVolunteers {
				return
			}
			if ok, _ := n.h.Peerstore().SupportsProtocols(p, AdBatchProtocol); len(ok) > 0 {
				ask(peer.AddrInfo{ID: p})
			}
		}
		if len(asked) == BatchVolunteers {
			return
		}
		lctx, stop := context.WithCancel(ctx)
		defer stop()
		for pi := range n.FindProviders(lctx, VolunteerCapability) {
			if !asked[pi.ID] && len(asked) < BatchVolunteers {
				ask(pi)
			}
			if len(asked) == BatchVolunteers {
				stop() // the lookup ends; the channel drains and closes
			}
		}
	}()
	return out
}
