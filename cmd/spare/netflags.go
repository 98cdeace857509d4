package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/networks"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/settings"
)

// netFlags are the p2p flags of node, submit and bootstrap.
type netFlags struct {
	listen    []string
	bootstrap []string
	noMDNS    bool
	noPublic  bool
	pool      string
	ads       adsMode
	// network is bootstrap's --network (node and submit take it from
	// chainFlags, which also settles money by it).
	network string
	// Set by join from the named network: its name for status lines and
	// its pool's allow-list.
	name  string
	allow []peer.ID
	// keepPorts: without --listen, the ports of the last start
	// (p2p.Config.StablePorts): spare node's, whose port an owner
	// forwards.
	keepPorts bool
}

// adsMode is --ads: checked as it is parsed, before anything starts.
// auto: pull on the public network, where gossip would cost every node
// in proportion to the network's size (docs/scale-model.md); gossip in a
// private pool of a few dozen, where it is cheap and the quickest.
type adsMode string

// pull says whether a node on pool ("" the public network) stays off the
// ads topic.
func (m adsMode) pull(pool string) bool {
	return m == "pull" || (m == "auto" && pool == "")
}

// volunteerAds is the ads mode of `spare node`: auto keeps the ads topic
// (gossip) on a node whose owner lets it relay, by --relay or the saved
// relay setting as it stands at the start, so that it answers pull-only
// requesters' batches (p2p.AdBatchProtocol, served while it relays).
// Any other mode is the owner's.
func volunteerAds(cmd *cobra.Command, dir string, m adsMode, log *slog.Logger) adsMode {
	if m != "auto" {
		return m
	}
	relay, _ := cmd.Flags().GetBool("relay")
	if !relay {
		s, _, err := settings.Load(dir)
		if err != nil {
			log.Debug("reading the relay setting", "err", err)
		}
		relay = err == nil && s.Relay
	}
	if relay {
		return "gossip"
	}
	return m
}

func (m *adsMode) String() string { return string(*m) }
func (m *adsMode) Type() string   { return "auto|gossip|pull" }
func (m *adsMode) Set(s string) error {
	if s != "auto" && s != "gossip" && s != "pull" {
		return fmt.Errorf("want auto, gossip or pull")
	}
	*m = adsMode(s)
	return nil
}

func (n *netFlags) register(cmd *cobra.Command, listen bool) {
	f := cmd.Flags()
	if listen {
		f.StringArrayVar(&n.listen, "listen", nil, "multiaddr to listen on, e.g. /ip4/0.0.0.0/tcp/4001 (repeatable; default: any port, TCP and QUIC; spare node: one port for both, kept in DATA/"+p2p.PortsFile+" from one start to the next so a port forwarded on the router stays right)")
	}
	f.StringArrayVar(&n.bootstrap, "bootstrap", nil, "bootstrap peer multiaddr ending in /p2p/ID (repeatable)")
	f.BoolVar(&n.noMDNS, "no-mdns", false, "do not look for peers on the local network")
	f.BoolVar(&n.noPublic, "no-public", false, "do not meet Spare nodes through the public libp2p network (only --bootstrap, known peers and the LAN)")
	f.StringVar(&n.pool, "pool", "", "join the private pool of this name instead of the public Spare network (shorthand for a network that settles in the embedded ledger; with --network, only where that network names no pool)")
	n.ads = "auto"
	f.Var(&n.ads, "ads", "how capacity ads travel: gossip (this node carries every ad of its network: cheap and quickest in a pool of a few dozen), pull (ads are found by DHT lookup and asked for: this node's traffic does not grow with the network), or auto (pull on the public network, unless this node relays for others: then it keeps the ads to answer pull requesters in batches; gossip in a --pool)")
}

// openHost starts the p2p host of the data directory.
func (n *netFlags) openHost(ctx context.Context, g *globals, dir string, bootstrapNode bool) (*p2p.Host, error) {
	ls, err := p2p.ParseMultiaddrs(n.listen)
	if err != nil {
		return nil, usageError{fmt.Errorf("--listen: %w", err)}
	}
	bs, err := p2p.ParseMultiaddrs(n.bootstrap)
	if err != nil {
		return nil, usageError{fmt.Errorf("--bootstrap: %w", err)}
	}
	// A node's volunteer relay follows its owner's setting (ownerRelay).
	return p2p.New(ctx, p2p.Config{DataDir: dir, Listen: ls, Bootstrap: bs, BootstrapNode: bootstrapNode,
		NoMDNS: n.noMDNS, Public: !n.noPublic, Pool: n.pool, AllowPeers: n.allow, Network: n.name, StablePorts: n.keepPorts,
		PullAds: n.ads.pull(n.pool), UserAgent: "spare/" + version, Logger: g.log})
}

// join takes the peer-to-peer part of the named network (package
// networks) before the host starts: name is --network, or the network
// chosen in Settings (origin says which; "" for neither). --pool alone
// is a network of its own that settles in the ledger; with a network
// that names no pool it puts that network's nodes in the pool; with one
// that names another pool it is an error naming both.
func (n *netFlags) join(dir, name, origin string) error {
	if name == "" {
		return nil
	}
	net, err := networks.Resolve(dir, name)
	if err != nil {
		return fmt.Errorf("%s: %w", origin, err)
	}
	if net.Pool != "" && n.pool != "" && n.pool != net.Pool {
		return usageError{fmt.Errorf("--pool %s with %s: network %q is the private pool %q already (DATA/%s); drop --pool, or choose another network",
			n.pool, originFlag(origin, name), name, net.Pool, networksFile)}
	}
	if net.Pool == "" && n.pool != "" && net.Chain == nil {
		return nil // --network ledger --pool P: the pool's own name says it
	}
	if net.Name != networks.Ledger {
		n.name = net.Name
	}
	if net.Pool != "" {
		n.pool, n.allow = net.Pool, net.AllowPeers
	}
	return nil
}

// originFlag is origin as a flag a person can drop: "--network NAME", or
// the Settings choice as origin says it.
func originFlag(origin, name string) string {
	if origin == "--network" {
		return "--network " + name
	}
	return origin
}

func blobDir(dir string) string { return filepath.Join(dir, "blobs") }
