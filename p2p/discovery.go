package p2p

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
)

// Discovery limits.
const (
	// ReprovideInterval is how often Advertise renews its DHT provider
	// record (records live 48 h on DHT servers).
	ReprovideInterval = 22 * time.Hour
	// MaxProviders bounds how many providers one FindProviders returns.
	MaxProviders = 1000
	// ProvideTimeout bounds one provider-record publication.
	ProvideTimeout = time.Minute
	// AdvertiseRetry is how soon a failed provider-record publication is
	// tried again.
	AdvertiseRetry = 30 * time.Second
)

// waitRoutingTable waits until the DHT routing table holds a peer, which
// happens shortly after the first DHT peer is connected and identified
// (kad-dht has no event for it, so this polls every routingTablePoll).
func (n *Host) waitRoutingTable(ctx context.Context) error {
	return n.waitDHT(ctx, routingTablePoll, true)
}

// waitDHTQuietly is waitRoutingTable for a wait that may last the host's
// life (the ads topic's advertisement on a LAN-only host): it polls every
// quietPoll and leaves re-checking the DHT to keepBootstrap.
func (n *Host) waitDHTQuietly(ctx context.Context) error {
	return n.waitDHT(ctx, quietPoll, false)
}

func (n *Host) waitDHT(ctx context.Context, poll time.Duration, nudging bool) error {
	if n.kad.RoutingTable().Size() > 0 {
		return nil
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	var nudge <-chan time.Time
	if nudging {
		nt := time.NewTicker(routingTableNudge)
		defer nt.Stop()
		nudge = nt.C
	}
	for n.kad.RoutingTable().Size() == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: no DHT peer known (no bootstrap peer reachable?): %w", ErrNoPeers, ctx.Err())
		case <-n.ctx.Done():
			return ErrClosed
		case <-t.C:
		case <-nudge:
			// A DHT query that timed out (a busy bootstrap node) drops its
			// peer from the table even though it stays connected, and the
			// DHT itself looks again only every few minutes: ask it to
			// re-check the connected peers now.
			_ = n.kad.Bootstrap(ctx)
		}
	}
	return nil
}

// DHTPeers is how many peers Spare's DHT routing table holds: zero while
// the host knows no DHT server (only mDNS peers, or a bootstrap peer that
// is itself a DHT client).
func (n *Host) DHTPeers() int { return n.kad.RoutingTable().Size() }

const (
	routingTablePoll  = 25 * time.Millisecond
	routingTableNudge = 2 * time.Second
	quietPoll         = 500 * time.Millisecond
)

// CapabilityCID is the DHT key under which providers of a capability are
// recorded: a CIDv1 (raw) of sha256("spare/cap/v1/" + capability). Examples of
// capabilities: "gpu", "gpu:nvidia", "cuda:12".
func CapabilityCID(capability string) cid.Cid {
	mh, err := multihash.Sum([]byte("spare/cap/v1/"+capability), multihash.SHA2_256, -1)
	if err != nil {
		panic(err) // sha2-256 is always available
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// Advertise publishes a DHT provider record saying this host offers
// capability, and renews it every ReprovideInterval until ctx ends or the
// host closes. The first publication's error is returned (for example when
// no DHT peer answered in time); a failed publication is retried every
// AdvertiseRetry until one succeeds, so a provider that started while its
// bootstrap node was busy still becomes findable. The DHT reports success
// even when a record it sent was not stored (it sends without waiting for
// an answer), so the second publication comes AdvertiseRetry after the
// first in any case.
func (n *Host) Advertise(ctx context.Context, capability string) error {
	key := CapabilityCID(capability)
	provide := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, ProvideTimeout)
		defer cancel()
		// Provide also reports success when its lookup found no DHT
		// server to send the record to (the only one timed out): look
		// first.
		peers, err := n.kad.GetClosestPeers(ctx, string(key.Hash()))
		if err != nil {
			return err
		}
		if len(peers) == 0 {
			return fmt.Errorf("%w: no DHT server answered", ErrNoPeers)
		}
		return n.kad.Provide(ctx, key, true)
	}
	if err := n.waitRoutingTable(ctx); err != nil {
		return fmt.Errorf("advertising %q: %w", capability, err)
	}
	err := provide(ctx)
	if ctx.Err() != nil {
		return fmt.Errorf("advertising %q: %w", capability, ctx.Err())
	}
	n.goLoop(func(hctx context.Context) {
		t := time.NewTimer(AdvertiseRetry)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			next := ReprovideInterval
			if err := provide(hctx); err != nil {
				n.log.Warn("publishing provider record", "capability", capability, "err", err)
				next = AdvertiseRetry
			}
			t.Reset(next)
		}
	})
	if err != nil {
		return fmt.Errorf("advertising %q (retrying every %s): %w", capability, AdvertiseRetry, err)
	}
	return nil
}

// FindProviders looks up the providers of capability in the DHT. Providers
// arrive on the channel as they are found (never this host itself); it is
// closed when the lookup ends, ctx ends or MaxProviders were sent. The
// caller must drain it or cancel ctx.
func (n *Host) FindProviders(ctx context.Context, capability string) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo)
	go func() {
		defer close(out)
		// Waiting for a DHT peer happens here, not in the caller: a host
		// with no DHT peer yet still has gossip and direct ad queries.
		if err := n.waitRoutingTable(ctx); err != nil {
			return
		}
		in := n.kad.FindProvidersAsync(ctx, CapabilityCID(capability), MaxProviders)
		for pi := range in {
			if pi.ID == n.h.ID() {
				continue
			}
			select {
			case out <- pi:
			case <-ctx.Done():
				for range in { // let the lookup finish; it ends with ctx
				}
				return
			}
		}
	}()
	return out
}
