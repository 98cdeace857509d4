package p2p

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Ads topic peer discovery limits.
const (
	// AdsTopicPeers is how many ads-topic peers one discovery round hands
	// GossipSub to connect to: a random sample of those the DHT names, so
	// that every host links to a few others and the network stays one
	// random graph with O(hosts) connections, not O(hosts²). GossipSub asks
	// again (every second, with backoff per peer) while its mesh is below
	// Dlo.
	AdsTopicPeers = 8
	// adsTopicCandidates is how many DHT results the sample is drawn from.
	adsTopicCandidates = 64
	// adsTopicLookup bounds one lookup when fewer than adsTopicCandidates
	// subscribers exist (the DHT query then runs until its own end).
	adsTopicLookup = 3 * time.Second
)

// sampledDiscovery finds ads-topic peers through the DHT but hands on only
// a random sample of them, so that the host is connected to about
// AdsTopicPeers subscribers. Without it GossipSub connects to
// every subscriber the DHT names (up to 100), which makes a network of a few
// hundred hosts a near-complete graph: a connection storm at start and
// every flood-published ad sent to every host.
type sampledDiscovery struct {
	discovery.Discovery
	self      peer.ID
	want      int
	connected func(peer.ID) bool
	// ready waits until the DHT has a peer (or ctx ends).
	ready func(context.Context) error
	log   *slog.Logger
}

// Advertise waits for a DHT peer before advertising the topic: GossipSub
// advertises once when the topic is joined and, after a failure, only
// minutes later, while a host's first DHT peer may take seconds to come.
func (d sampledDiscovery) Advertise(ctx context.Context, ns string, opts ...discovery.Option) (time.Duration, error) {
	if d.log != nil {
		d.log.Debug("ads topic: advertising once a DHT peer is known")
	}
	if err := d.ready(ctx); err != nil {
		return 0, err
	}
	return d.Discovery.Advertise(ctx, ns, opts...)
}

func (d sampledDiscovery) FindPeers(ctx context.Context, ns string, opts ...discovery.Option) (<-chan peer.AddrInfo, error) {
	lctx, cancel := context.WithTimeout(ctx, adsTopicLookup)
	in, err := d.Discovery.FindPeers(lctx, ns, append(opts, discovery.Limit(adsTopicCandidates))...)
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan peer.AddrInfo, d.want)
	go func() {
		defer close(out)
		defer cancel()
		var fresh, known []peer.AddrInfo
		for pi := range in {
			switch {
			case pi.ID == d.self:
			case d.connected(pi.ID):
				known = append(known, pi)
			default:
				fresh = append(fresh, pi)
			}
		}
		// New connections only up to want subscribers connected in all
		// (a host that others dialled needs fewer of its own), unconnected
		// peers first: connecting is what GossipSub asked for.
		rand.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
		found := append(fresh[:max(0, min(len(fresh), d.want-len(known)))], known...)
		for _, pi := range found[:min(len(found), d.want)] {
			out <- pi // buffered for d.want: never blocks
		}
	}()
	return out, nil
}
