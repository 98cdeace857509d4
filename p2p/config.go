package p2p

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// Protocol IDs of Spare's stream protocols.
const (
	// JobProtocol carries proposals, quotes, agreements, receipts, vouchers,
	// results and preemption notices (spoken by package market).
	JobProtocol = "/spare/job/1.0.0"
	// BlobProtocol is the content-addressed transfer of images, inputs and
	// outputs, implemented in this package (see blob.go).
	BlobProtocol = "/spare/blob/1.0.0"
	// AdsTopic is the GossipSub topic for capacity ads.
	AdsTopic = "/spare/ads/1"
	// DHTPrefix keeps Spare's Kademlia DHT apart from the public IPFS one.
	DHTPrefix = "/spare"
	// MDNSService is the DNS-SD service name announced on the LAN.
	MDNSService = "_spare-p2p._udp"
)

// Connection and resource limits. Each is the value the resource manager or
// connection manager enforces for the whole host unless stated otherwise.
const (
	// ConnLowWater and ConnHighWater: past high water the connection manager
	// trims connections down to low water (protected and recent ones kept).
	ConnLowWater  = 100
	ConnHighWater = 400
	// ConnGracePeriod: new connections are never trimmed before this age.
	ConnGracePeriod = time.Minute
	// MaxConns caps connections of every kind; MaxConnsInbound the inbound ones.
	MaxConns        = 1024
	MaxConnsInbound = 768
	// MaxStreams caps open streams; MaxStreamsInbound the inbound ones.
	MaxStreams        = 4096
	MaxStreamsInbound = 2048
	// MaxMemory caps the memory libp2p may reserve for the whole host.
	MaxMemory = 512 << 20
	// MaxFD caps the file descriptors libp2p may hold.
	MaxFD = 1024
	// MaxPeerStreamsInbound caps inbound streams from one peer.
	MaxPeerStreamsInbound = 256
	// MaxJobStreamsPerPeer and MaxBlobStreamsPerPeer cap inbound streams of
	// Spare's protocols from one peer; MaxJobStreams and MaxBlobStreams from
	// all peers together.
	MaxJobStreamsPerPeer  = 4
	MaxBlobStreamsPerPeer = 8
	MaxJobStreams         = 64
	MaxBlobStreams        = 64
	// BootstrapTimeout bounds the dials to bootstrap peers at start.
	BootstrapTimeout = 15 * time.Second
	// BootstrapRetry is how often bootstrap peers are redialled while none is
	// connected.
	BootstrapRetry = time.Minute
)

// Config configures a Host. Its zero value runs: an ephemeral identity,
// listening on every interface over TCP and QUIC, mDNS on, no bootstrap peers.
type Config struct {
	// DataDir holds the identity key in DataDir/p2p/identity.key (0600, made
	// on first use). Empty: a new identity each run, kept in memory only.
	DataDir string

	// Listen are the multiaddrs to listen on. Empty: DefaultListen, or
	// LoopbackListen when LoopbackOnly is set.
	Listen []multiaddr.Multiaddr

	// StablePorts, with Listen empty and a DataDir, listens on one port
	// number for TCP and QUIC kept in DataDir/p2p/ports.json (PortsFile)
	// from one start to the next, so that a port the owner forwarded on
	// the router stays right (a new one, said in a WARN, when another
	// program took it). `spare node` sets it; a short-lived host on the
	// same data directory (`spare submit`) does not, so it never takes
	// the node's port. False: any free ports.
	StablePorts bool

	// Bootstrap are the /p2p/ multiaddrs of bootstrap peers: dialled at start,
	// used to join the DHT and as static circuit relays. Empty: only mDNS and
	// peers connected explicitly.
	Bootstrap []multiaddr.Multiaddr

	// BootstrapNode runs this host as a bootstrap and relay node: DHT server
	// mode, circuit relay v2 service, AutoNAT service, reachability taken to
	// be public. `spare bootstrap` sets it. False: an ordinary peer (DHT mode
	// chosen by reachability, relay client only).
	BootstrapNode bool

	// DHTServer forces DHT server mode on an ordinary peer (useful on a LAN
	// or in tests where AutoNAT cannot prove reachability). False: automatic.
	DHTServer bool

	// Pool names a private pool (lower-case letters, digits, '-' and '.',
	// at most MaxPoolName bytes): its hosts keep a DHT, ads topic, mDNS
	// service and public rendezvous of their own, never see the public
	// network's ads and are never seen by it; Spare peers of another
	// network are disconnected once they identify. Empty: the public Spare
	// network.
	Pool string

	// Network names the named network this host is on, as its owner
	// chose it (DATA/networks.json; see package networks), for status
	// lines only: Pool and AllowPeers are what keep networks apart.
	// Empty: the pool's name, or "public".
	Network string

	// AllowPeers, when non-empty, are the only Spare peers this host keeps:
	// inbound connections from others are refused and outbound ones to a
	// Spare node not listed are closed once it identifies (peers that are
	// not Spare nodes, such as public DHT servers, are dialled as usual).
	// Empty: any Spare peer of the network.
	AllowPeers []peer.ID

	// Public joins the public libp2p network (the Amino DHT, as a client)
	// through its well-known bootstrap peers (dht.DefaultBootstrapPeers;
	// tests replace them with PublicBootstrapEnv) to meet the other Spare
	// nodes of this network by rendezvous (see rendezvous.go), with no
	// server of Spare's own. False: only Bootstrap, the address book and
	// mDNS.
	Public bool

	// Relay is the owner's consent to volunteer as a limited circuit v2
	// relay (RelayMaxReservations, RelayMaxCircuits, RelayCircuitTime,
	// RelayCircuitBytes) for Spare nodes behind NATs. libp2p runs the
	// relay only while AutoNAT finds this host publicly reachable. The
	// caller reads it against a metered connection (RelayWanted). False:
	// no relay service (a bootstrap node runs its own, unlimited by these).
	// Host.SetRelay changes it while the host runs.
	Relay bool

	// PullAds keeps this host off the ads topic: it neither carries nor
	// hears the other hosts' ads, so its traffic no longer grows with the
	// size of the network (docs/scale-model.md). Its own ads are found by
	// a DHT lookup of its capabilities (Advertise) and a direct query
	// (market.AdProtocol); a requester finds providers the same way.
	// False: the ads topic, as on a pool of a few dozen nodes.
	PullAds bool

	// Bandwidth, when non-nil, counts the bytes of every stream this host
	// opens or accepts (measurements; make bench).
	Bandwidth metrics.Reporter

	// NoMDNS turns LAN discovery by mDNS off.
	NoMDNS bool

	// NoPortMap turns UPnP/NAT-PMP port mapping off. False: the host asks the
	// home router for a port mapping.
	NoPortMap bool

	// LoopbackOnly keeps all traffic on 127.0.0.1: loopback listeners, no
	// mDNS, no port mapping. For tests and demos on one machine.
	LoopbackOnly bool

	// UserAgent names the software in identify, e.g. "spare/0.3.0".
	// Empty: "spare/dev".
	UserAgent string

	// ConnLow and ConnHigh override ConnLowWater and ConnHighWater when
	// non-zero.
	ConnLow, ConnHigh int

	// Logger receives the host's logs. Nil: slog.Default(). The first Host
	// made in a process also routes libp2p's own logs (WARN and above) here.
	Logger *slog.Logger

	// OnIdentityCopy, when non-nil, is called (besides an ERROR log) when a
	// peer reports this host's identity running in another process at the
	// same time (see dup.go for what is and is not detected).
	OnIdentityCopy func(IdentityCopy)

	// forcePrivate makes the host take itself to be behind a NAT at once
	// instead of waiting for AutoNAT's verdict (tests only); forcePublic
	// makes it take itself to be publicly reachable.
	forcePrivate, forcePublic bool
	// punchReady, when set, says whether this host can answer a hole
	// punch, in place of libp2p's DCUtR handler being there (tests only:
	// on loopback no host has the public address libp2p waits for).
	punchReady func() bool
	// gater, when set, is the host's connection gater (tests only; not
	// with AllowPeers).
	gater connmgr.ConnectionGater

	// Metrics, when non-nil, receives libp2p's Prometheus metrics. Nil: off.
	Metrics prometheus.Registerer
}

// DefaultListen are the listen addresses used when Config.Listen is empty.
var DefaultListen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}

// LoopbackListen are the listen addresses used with Config.LoopbackOnly.
var LoopbackListen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// ParseMultiaddrs parses command-line multiaddrs (e.g. --listen, --bootstrap).
func ParseMultiaddrs(ss []string) ([]multiaddr.Multiaddr, error) {
	out := make([]multiaddr.Multiaddr, 0, len(ss))
	for _, s := range ss {
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrBadAddr, s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func (c Config) listen() ([]multiaddr.Multiaddr, error) {
	if len(c.Listen) > 0 {
		return c.Listen, nil
	}
	if c.LoopbackOnly {
		return ParseMultiaddrs(LoopbackListen)
	}
	return ParseMultiaddrs(DefaultListen)
}

func (c Config) bootstrapPeers() ([]peer.AddrInfo, error) {
	if len(c.Bootstrap) == 0 {
		return nil, nil
	}
	infos, err := peer.AddrInfosFromP2pAddrs(c.Bootstrap...)
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap peers need a /p2p/ part: %w", ErrBadAddr, err)
	}
	return infos, nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c Config) userAgent() string {
	if c.UserAgent != "" {
		return c.UserAgent
	}
	return "spare/dev"
}
