package p2p

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
)

// PublicBootstrapEnv, when set, replaces the public libp2p network's
// bootstrap peers (dht.DefaultBootstrapPeers) with the space-separated
// /p2p/ multiaddrs it holds. It exists for tests, which must never reach
// the real internet; it is not a user setting.
const PublicBootstrapEnv = "SPARE_P2P_PUBLIC_BOOTSTRAP"

// Rendezvous limits. A host with Config.Public joins the public Amino DHT
// as a client, publishes a provider record under RendezvousCID(network)
// and looks up the others' records, connecting to the Spare nodes it
// finds; from them it joins Spare's own DHT and ads topic.
const (
	// RendezvousLookup is how often the rendezvous is looked up while
	// fewer than RendezvousWant Spare peers are connected;
	// RendezvousIdle while enough are.
	RendezvousLookup = time.Minute
	RendezvousIdle   = 30 * time.Minute
	// RendezvousWant is the count of connected Spare peers that makes
	// further lookups idle.
	RendezvousWant = 8
	// maxRendezvousPeers bounds one lookup's dials (see also
	// rendezvous_pick.go).
	maxRendezvousPeers = 32
	// rendezvousDial bounds one dial to a found node.
	rendezvousDial = 10 * time.Second
)

// RendezvousCID is the Amino DHT key under which the Spare nodes of the
// network named by rendezvous (netNames.rendezvous) publish provider
// records: a CIDv1 (raw) of sha256("spare/rendezvous/v1/" + name).
func RendezvousCID(name string) cid.Cid {
	mh, err := multihash.Sum([]byte("spare/rendezvous/v1/"+name), multihash.SHA2_256, -1)
	if err != nil {
		panic(err) // sha2-256 is always available
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// publicBootstrap is the public network's bootstrap peers: those of
// PublicBootstrapEnv when it is set, else kad-dht's well-known list.
func publicBootstrap() ([]peer.AddrInfo, error) {
	if s, ok := os.LookupEnv(PublicBootstrapEnv); ok {
		as, err := ParseMultiaddrs(strings.Fields(s))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", PublicBootstrapEnv, err)
		}
		return peer.AddrInfosFromP2pAddrs(as...)
	}
	return peer.AddrInfosFromP2pAddrs(dht.DefaultBootstrapPeers...)
}

// joinPublic starts the Amino DHT client and the rendezvous loop.
func (n *Host) joinPublic() error {
	peers, err := publicBootstrap()
	if err != nil {
		return err
	}
	if len(peers) == 0 {
		n.log.Debug("no public bootstrap peers: not joining the public network")
		return nil
	}
	amino, err := dht.New(n.h, dht.Mode(dht.ModeClient), dht.BootstrapPeers(peers...))
	if err != nil {
		return fmt.Errorf("joining the public DHT: %w", err)
	}
	n.amino = amino
	n.goLoop(func(ctx context.Context) { n.rendezvous(ctx, peers) })
	return nil
}

// rendezvous keeps this host findable by, and finding, the other Spare
// nodes of its network through the public DHT.
func (n *Host) rendezvous(ctx context.Context, boot []peer.AddrInfo) {
	key := RendezvousCID(n.names.rendezvous)
	var provided time.Time
	for {
		if n.amino.RoutingTable().Size() == 0 {
			n.dialAll(ctx, boot, BootstrapTimeout)
			_ = n.amino.Bootstrap(ctx)
			n.waitAmino(ctx)
		}
		if time.Since(provided) > ReprovideInterval && n.amino.RoutingTable().Size() > 0 {
			pctx, cancel := context.WithTimeout(ctx, ProvideTimeout)
			if err := n.amino.Provide(pctx, key, true); err != nil {
				n.log.Debug("publishing the rendezvous record", "err", err)
			} else {
				provided = time.Now()
				n.rendezvousPublished.Store(true)
			}
			cancel()
		}
		n.findRendezvous(ctx, key)
		wait := RendezvousLookup
		if n.sparePeers() >= RendezvousWant && !provided.IsZero() {
			wait = RendezvousIdle
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// waitAmino waits (at most BootstrapTimeout) for the public DHT's routing
// table to hold a peer, which follows the first identified DHT server.
func (n *Host) waitAmino(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, BootstrapTimeout)
	defer cancel()
	t := time.NewTicker(routingTablePoll)
	defer t.Stop()
	for n.amino.RoutingTable().Size() == 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// findRendezvous connects to the Spare nodes the public DHT names.
func (n *Host) findRendezvous(ctx context.Context, key cid.Cid) {
	if n.amino.RoutingTable().Size() == 0 {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, ProvideTimeout)
	defer cancel()
	var found []peer.AddrInfo
	for pi := range n.amino.FindProvidersAsync(lctx, key, maxRendezvousRecords) {
		found = append(found, pi)
	}
	now := time.Now()
	pick := pickRendezvous(found, func(p peer.ID) bool {
		return p == n.h.ID() || n.h.Network().Connectedness(p) == network.Connected || n.notSpare.has(p, now)
	}, rendezvousPerGroup, maxRendezvousPeers)
	n.dialAll(ctx, pick, rendezvousDial)
	for _, pi := range pick {
		if n.h.Network().Connectedness(pi.ID) != network.Connected {
			continue
		}
		if keep, why := n.rendezvousVerdict(pi.ID); !keep {
			n.log.Debug("a rendezvous answer is no Spare node of this network; not dialled again for a while", "peer", pi.ID, "why", why)
			n.notSpare.add(pi.ID, now)
			_ = n.h.Network().ClosePeer(pi.ID)
		}
	}
}

// rendezvousVerdict judges a peer found through the rendezvous once it
// has identified: it must speak this network's marker (or, on the public
// network, some /spare/ protocol: nodes that predate markers).
func (n *Host) rendezvousVerdict(p peer.ID) (keep bool, why string) {
	protos, err := n.h.Peerstore().GetProtocols(p)
	if err != nil {
		return false, err.Error()
	}
	for _, pr := range protos {
		if pr == n.names.marker || (n.names.pool == "" && strings.HasPrefix(string(pr), "/spare/")) {
			return n.poolVerdict(p, protos)
		}
	}
	return false, "it speaks no Spare protocol"
}

// dialAll dials peers in parallel, each for at most d; failures are
// logged at DEBUG.
func (n *Host) dialAll(ctx context.Context, peers []peer.AddrInfo, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for _, pi := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.h.Connect(ctx, pi); err != nil {
				n.log.Debug("peer unreachable", "peer", pi.ID, "err", err)
			}
		}()
	}
	wg.Wait()
}

// sparePeers counts the connected peers that speak this network's marker.
func (n *Host) sparePeers() int {
	c := 0
	for _, p := range n.h.Network().Peers() {
		if ps, err := n.h.Peerstore().SupportsProtocols(p, n.names.marker); err == nil && len(ps) > 0 {
			c++
		}
	}
	return c
}

// SparePeers is how many Spare peers of this host's network are connected.
func (n *Host) SparePeers() int { return n.sparePeers() }
