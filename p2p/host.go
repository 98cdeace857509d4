package p2p

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
)

// Host is Spare's libp2p node: identity, transports, NAT traversal,
// discovery, capacity ads and the blob protocol. Make one with New; it runs
// until Close or until Serve's context ends.
type Host struct {
	h host.Host
	// relayHost is h for autorelay's peer source, which may run before
	// New has set h.
	relayHost atomic.Value
	kad       *dht.IpfsDHT
	ps        *pubsub.PubSub
	ads       *adBoard
	dup       *dupDetector
	trace     *gossipTracer
	mdns      mdns.Service
	log       *slog.Logger
	cfg       Config
	boot      []peer.AddrInfo
	book      *addrBook
	reach     reachWatch
	relay     volunteer
	names     netNames
	amino     *dht.IpfsDHT // the public DHT (Config.Public); nil: not joined
	// rendezvousPublished: this host's rendezvous record was published
	// once (tests wait on it).
	rendezvousPublished atomic.Bool
	// notSpare: peers the rendezvous named that are not Spare nodes of
	// this network (rendezvous_pick.go).
	notSpare notSpare
	instance string
	blobs    blobServer

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	loopMu    sync.Mutex // guards closed against wg.Add after Close
	closed    bool
	closeOnce sync.Once
	closeErr  error
}

// New starts a host: it loads or makes the identity, listens, dials the
// bootstrap peers (for at most BootstrapTimeout; failures are logged, not
// returned) and joins the DHT and the ads topic. ctx bounds only the start;
// the host runs until Close.
func New(ctx context.Context, cfg Config) (*Host, error) {
	log := cfg.logger().With("component", "p2p")
	routeLibP2PLogs(cfg.logger().Handler())

	key, err := loadIdentity(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	listen, err := cfg.listen()
	if err != nil {
		return nil, err
	}
	if cfg.stablePorts() {
		listen = stablePorts(cfg.DataDir, listen, log)
	}
	boot, err := cfg.bootstrapPeers()
	if err != nil {
		return nil, err
	}
	names, err := networkNames(cfg.Pool)
	if err != nil {
		return nil, err
	}
	self, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	book, err := loadBook(cfg.DataDir, self)
	if err != nil {
		log.Warn("address book ignored", "err", err)
	}
	rm, err := newResourceManager()
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	low, high := ConnLowWater, ConnHighWater
	if cfg.ConnLow > 0 {
		low = cfg.ConnLow
	}
	if cfg.ConnHigh > 0 {
		high = cfg.ConnHigh
	}
	cm, err := connmgr.NewConnManager(low, high, connmgr.WithGracePeriod(ConnGracePeriod))
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}

	var inst [8]byte
	_, _ = rand.Read(inst[:])
	hctx, cancel := context.WithCancel(context.Background())
	n := &Host{log: log, cfg: cfg, boot: boot, book: book, names: names, instance: hex.EncodeToString(inst[:]), ctx: hctx, cancel: cancel, trace: newGossipTracer(names.adsTopic)}

	mode := dht.ModeAuto
	if cfg.BootstrapNode || cfg.DHTServer {
		mode = dht.ModeServer
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrs(listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent(cfg.userAgent() + " (instance " + n.instance + ")"),
		libp2p.EnableHolePunching(punchTracing(&n.reach.peers, cfg.Metrics)),
		libp2p.EnableAutoNATv2(),
		libp2p.EnableRelay(),
		libp2p.Routing(func(h host.Host) (routing.PeerRouting, error) {
			d, err := dht.New(h,
				dht.ProtocolPrefix(protocol.ID(names.dhtPrefix)),
				dht.Mode(mode),
				dht.DisableValues(),
				dht.BootstrapPeers(append(slices.Clone(boot), book.list()...)...),
			)
			n.kad = d
			return d, err
		}),
	}
	if len(cfg.AllowPeers) > 0 {
		opts = append(opts, libp2p.ConnectionGater(allowGater{allow: cfg.AllowPeers}))
	} else if cfg.gater != nil {
		opts = append(opts, libp2p.ConnectionGater(cfg.gater))
	}
	if cfg.Metrics != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Metrics))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	if cfg.Bandwidth != nil {
		opts = append(opts, libp2p.BandwidthReporter(cfg.Bandwidth))
	}
	if !cfg.NoPortMap && !cfg.LoopbackOnly {
		opts = append(opts, libp2p.NATPortMap())
	}
	if cfg.BootstrapNode {
		opts = append(opts, libp2p.EnableRelayService(), libp2p.EnableNATService(), libp2p.ForceReachabilityPublic())
	}
	opts = append(opts, n.relayOptions(boot)...)
	if cfg.forcePrivate {
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	}
	if cfg.forcePublic {
		opts = append(opts, libp2p.ForceReachabilityPublic())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting libp2p: %w", err)
	}
	n.h = h
	n.relayHost.Store(h)
	if cfg.stablePorts() {
		savePorts(cfg.DataDir, h.Network().ListenAddresses(), log)
	}

	fail := func(err error) (*Host, error) {
		n.Close()
		return nil, err
	}
	// The network's marker: peers judge by it whether this host is of
	// their network (poolVerdict). The stream itself carries nothing.
	h.SetStreamHandler(names.marker, func(s network.Stream) { _ = s.Reset() })
	n.ps, err = pubsub.NewGossipSub(hctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithLogger(slog.New(libp2pLogs(log.With("sub", "pubsub").Handler(), "pubsub"))),
		pubsub.WithPeerExchange(cfg.BootstrapNode),
		// No flood publishing: an own ad goes to the mesh (D peers) like
		// any other, so its cost does not grow with the number of topic
		// peers; PublishAd waits for the mesh instead (see meshWait).
		pubsub.WithRawTracer(n.trace),
		pubsub.WithGossipSubParams(adsGossipParams()),
		// Find and connect to a few other subscribers through the DHT, so
		// that a host whose only peer is a bootstrap node still joins a
		// real mesh (see sampledDiscovery for why only a few).
		pubsub.WithDiscovery(sampledDiscovery{
			Discovery: drouting.NewRoutingDiscovery(n.kad), self: h.ID(), want: AdsTopicPeers,
			ready: n.waitDHTQuietly, log: log,
			connected: func(p peer.ID) bool { return h.Network().Connectedness(p) == network.Connected },
		}),
	)
	if err != nil {
		return fail(fmt.Errorf("starting gossipsub: %w", err))
	}
	if n.dup, err = newDupDetector(n); err != nil {
		return fail(err)
	}
	if !cfg.NoMDNS && !cfg.LoopbackOnly {
		n.mdns = mdns.NewMdnsService(h, names.mdns, mdnsNotifee{n})
		if err := n.mdns.Start(); err != nil {
			return fail(fmt.Errorf("starting mDNS: %w", err))
		}
	}
	for _, b := range boot {
		h.ConnManager().Protect(b.ID, "bootstrap")
	}
	h.Network().Notify(n.reach.peers.notifiee())
	reach, err := h.EventBus().Subscribe([]any{new(event.EvtLocalReachabilityChanged), new(event.EvtNATDeviceTypeChanged)})
	if err != nil {
		return fail(fmt.Errorf("watching reachability: %w", err))
	}
	n.goLoop(func(ctx context.Context) { n.watchReach(ctx, reach) })
	idents, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return fail(fmt.Errorf("watching identify: %w", err))
	}
	n.goLoop(func(ctx context.Context) { n.keepBook(ctx, idents) })
	// The peers of the address book are dialled beside the bootstrap
	// peers: a restart finds its Spare peers without them.
	var dials sync.WaitGroup
	dials.Add(1)
	go func() { defer dials.Done(); n.dialBook(ctx) }()
	n.dialBootstrap(ctx)
	dials.Wait()
	if err := n.kad.Bootstrap(hctx); err != nil {
		return fail(fmt.Errorf("joining the DHT: %w", err))
	}
	if n.bootstrapServesDHT() {
		// Joining the ads topic advertises it and looks for its peers in
		// the DHT: wait (briefly) for the DHT peer first, so that both land.
		// Not when no bootstrap peer is a DHT server (a provider at home
		// given as --bootstrap): there is nothing to wait for, and a
		// requester asks that provider for its ad at once. The topic's
		// advertisement then waits by itself (sampledDiscovery.Advertise).
		wctx, cancel := context.WithTimeout(ctx, BootstrapTimeout)
		if err := n.waitRoutingTable(wctx); err != nil {
			log.Warn("no DHT peer yet; ads topic peers will be found later", "err", err)
		}
		cancel()
	}
	if n.ads, err = newAdBoard(n); err != nil {
		return fail(err)
	}
	n.SetRelay(cfg.Relay) // after the ad board: a relay volunteers its ads
	if cfg.Public {
		if err := n.joinPublic(); err != nil {
			return fail(err)
		}
	}
	if len(boot) > 0 || len(book.list()) > 0 {
		n.goLoop(n.keepBootstrap)
	}
	log.Info("p2p host started", "peer_id", h.ID(), "addrs", n.Addrs(), "bootstrap_node", cfg.BootstrapNode)
	return n, nil
}

func newResourceManager() (network.ResourceManager, error) {
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	partial := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{
			Conns: MaxConns, ConnsInbound: MaxConnsInbound,
			Streams: MaxStreams, StreamsInbound: MaxStreamsInbound,
			Memory: MaxMemory, FD: MaxFD,
		},
		PeerDefault: rcmgr.ResourceLimits{StreamsInbound: MaxPeerStreamsInbound},
		Protocol: map[protocol.ID]rcmgr.ResourceLimits{
			JobProtocol:    {StreamsInbound: MaxJobStreams},
			BlobProtocol:   {StreamsInbound: MaxBlobStreams},
			AdPushProtocol: {StreamsInbound: MaxAdPushStreams},
		},
		ProtocolPeer: map[protocol.ID]rcmgr.ResourceLimits{
			JobProtocol:  {StreamsInbound: MaxJobStreamsPerPeer},
			BlobProtocol: {StreamsInbound: MaxBlobStreamsPerPeer},
		},
	}
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(partial.Build(scaling.AutoScale())))
}

// goLoop runs f in a goroutine owned by the host: it gets the host's
// context and Close waits for it. It reports false, running nothing, once
// the host is closed.
func (n *Host) goLoop(f func(ctx context.Context)) bool {
	n.loopMu.Lock()
	defer n.loopMu.Unlock()
	if n.closed {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f(n.ctx)
	}()
	return true
}

func (n *Host) dialBootstrap(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, BootstrapTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, b := range n.boot {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.h.Connect(ctx, b); err != nil {
				n.log.Warn("bootstrap peer unreachable", "peer", b.ID, "err", err)
			}
		}()
	}
	wg.Wait()
}

// bootstrapServesDHT reports whether a connected peer (a bootstrap peer,
// one from the address book) serves Spare's DHT, or may: one whose
// identify has not completed yet (a loaded peer) counts, so only peers
// known to be DHT clients (a provider at home given as --bootstrap) are
// not waited for.
func (n *Host) bootstrapServesDHT() bool {
	kad := protocol.ID(n.names.dhtPrefix + "/kad/1.0.0")
	for _, p := range n.h.Network().Peers() {
		protos, err := n.h.Peerstore().GetProtocols(p)
		if err != nil || len(protos) == 0 || slices.Contains(protos, kad) {
			return true
		}
	}
	return false
}

// keepBootstrap redials the bootstrap peers while none is connected, and
// has the DHT re-check its connected peers while its routing table is empty.
func (n *Host) keepBootstrap(ctx context.Context) {
	t := time.NewTicker(BootstrapRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		connected := false
		for _, b := range n.boot {
			if n.h.Network().Connectedness(b.ID) == network.Connected {
				connected = true
			}
		}
		if !connected {
			n.dialBootstrap(ctx)
		}
		if len(n.h.Network().Peers()) == 0 {
			n.dialBook(ctx)
		}
		if !connected || n.kad.RoutingTable().Size() == 0 {
			// Also when connected: a timed-out query drops a peer from the
			// routing table though it stays connected; this re-checks it.
			_ = n.kad.Bootstrap(ctx)
		}
	}
}

// Serve blocks until ctx ends or the host is closed, then closes the host.
func (n *Host) Serve(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-n.ctx.Done():
	}
	return n.Close()
}

// Close stops the host's goroutines and closes every connection.
func (n *Host) Close() error {
	n.closeOnce.Do(func() {
		n.loopMu.Lock()
		n.closed = true
		n.loopMu.Unlock()
		n.cancel()
		n.closeRelay()
		var errs []error
		if n.mdns != nil {
			errs = append(errs, n.mdns.Close())
		}
		if n.ads != nil {
			n.ads.close()
		}
		if n.kad != nil {
			errs = append(errs, n.kad.Close())
		}
		if n.amino != nil {
			errs = append(errs, n.amino.Close())
		}
		if n.h != nil {
			errs = append(errs, n.h.Close())
		}
		n.wg.Wait()
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// ID is this host's peer ID.
func (n *Host) ID() peer.ID { return n.h.ID() }

// Addrs are this host's addresses, each ending in /p2p/<id>, ready to be
// given to another node as --bootstrap.
func (n *Host) Addrs() []multiaddr.Multiaddr {
	out, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()})
	return out
}

// AddrInfo is this host's peer ID and addresses.
func (n *Host) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()}
}

// LibP2P is the underlying libp2p host, for protocol handlers (market's
// /spare/job/1.0.0) and for tests.
func (n *Host) LibP2P() host.Host { return n.h }

// Connect dials a peer (a no-op when already connected).
func (n *Host) Connect(ctx context.Context, pi peer.AddrInfo) error {
	if err := n.h.Connect(ctx, pi); err != nil {
		return fmt.Errorf("connecting to %s: %w", pi.ID, err)
	}
	return nil
}

// Peers are the peers this host has open connections to.
func (n *Host) Peers() []peer.ID { return n.h.Network().Peers() }

// mdnsNotifee connects to peers found on the LAN.
type mdnsNotifee struct{ n *Host }

func (m mdnsNotifee) HandlePeerFound(pi peer.AddrInfo) {
	if pi.ID == m.n.h.ID() {
		return
	}
	m.n.goLoop(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, BootstrapTimeout)
		defer cancel()
		if err := m.n.h.Connect(ctx, pi); err != nil {
			m.n.log.Debug("mDNS peer unreachable", "peer", pi.ID, "err", err)
			return
		}
		m.n.log.Debug("mDNS peer connected", "peer", pi.ID)
	})
}

// adsGossipParams are GossipSub's defaults with a sparser mesh (D 4
// instead of 6, between 3 and 8 instead of 5 and 12) and gossip to 4
// peers instead of 6. Every host receives every ad about once per mesh
// link, so this sets what an ad costs each host: about 4.6 copies instead
// of 7.3 at 200 providers (the market's scale harness). Ads are small,
// long-lived and also fetched directly, so the redundancy lost is cheap.
// A pruned peer is told of 4 others to connect to (peer exchange, sent by
// bootstrap nodes), not 16: topic peers come from the DHT sample already.
func adsGossipParams() pubsub.GossipSubParams {
	p := pubsub.DefaultGossipSubParams()
	p.D, p.Dlo, p.Dhi, p.Dout, p.Dlazy = 4, 3, 8, 1, 4
	p.PrunePeers = 4
	return p
}
