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
)

// waitRoutingTable waits until the DHT routing table holds a peer, which
// happens shortly after the first DHT peer is connected and identified
// (kad-dht has no event for it, so this polls every routingTablePoll).
func (n *Host) waitRoutingTable(ctx context.Context) error {
	if n.kad.RoutingTable().Size() > 0 {
		return nil
	}
	t := time.NewTicker(routingTablePoll)
	defer t.Stop()
	for n.kad.RoutingTable().Size() == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: no DHT peer known (no bootstrap peer reachable?): %w", ErrNoPeers, ctx.Err())
		case <-n.ctx.Done():
			return ErrClosed
		case <-t.C:
		}
	}
	return nil
}

const routingTablePoll = 25 * time.Millisecond

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
// the routing table is still empty because no bootstrap peer answered).
func (n *Host) Advertise(ctx context.Context, capability string) error {
	key := CapabilityCID(capability)
	provide := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, ProvideTimeout)
		defer cancel()
		return n.kad.Provide(ctx, key, true)
	}
	if err := n.waitRoutingTable(ctx); err != nil {
		return fmt.Errorf("advertising %q: %w", capability, err)
	}
	if err := provide(ctx); err != nil {
		return fmt.Errorf("advertising %q: %w", capability, err)
	}
	n.goLoop(func(hctx context.Context) {
		t := time.NewTicker(ReprovideInterval)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := provide(hctx); err != nil {
					n.log.Warn("renewing provider record", "capability", capability, "err", err)
				}
			}
		}
	})
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
