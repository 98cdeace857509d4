package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

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
		f.StringArrayVar(&n.listen, "listen", nil, "multiaddr to listen on, e.g. /ip4/0.0.0.0/tcp/4001 (repeatable; default: any port, TCP and QUIC)")
	}
	f.StringArrayVar(&n.bootstrap, "bootstrap", nil, "bootstrap peer multiaddr ending in /p2p/ID (repeatable)")
	f.BoolVar(&n.noMDNS, "no-mdns", false, "do not look for peers on the local network")
	f.BoolVar(&n.noPublic, "no-public", false, "do not meet Spare nodes through the public libp2p network (only --bootstrap, known peers and the LAN)")
	f.StringVar(&n.pool, "pool", "", "join the private pool of this name instead of the public Spare network")
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
		NoMDNS: n.noMDNS, Public: !n.noPublic, Pool: n.pool, PullAds: n.ads.pull(n.pool), UserAgent: "spare/" + version, Logger: g.log})
}

func blobDir(dir string) string { return filepath.Join(dir, "blobs") }
