package main

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/household"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/networks"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/provider"
	"github.com/sparegpu/spare/sandbox"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// nodeParts is what a provider node is built from: the parts its caller
// opened (and closes after Serve returns) and the rules it runs by.
// `spare node` and the playground (`spare demo`) both build theirs here.
type nodeParts struct {
	DataDir string
	Sandbox *sandbox.Sandbox
	Wallet  *wallet.Wallet
	Host    *p2p.Host
	// Settings are the command line's governor settings; Pinned names
	// the owner settings they hold over DATA/settings.json.
	Settings governor.Settings
	Pinned   []string
	// Policy is the provider's price and metering interval.
	Policy market.Policy
	// Reserve is what the machine keeps for itself (zero: the defaults).
	Reserve provider.Reserve
	// Cache is the disk kept between jobs (zero: the default).
	Cache market.ByteSize
	// Submitter runs `spare submit`'s jobs through this daemon (nil: the
	// daemon submits none).
	Submitter *market.Requester
	// Notice is a line for the owner shown with the status.
	Notice string
	// IOUs says whose IOUs are taken on the public network beyond the
	// owner's settings (the playground names its requester).
	IOUs provider.IOUs
	// Chain, when set, is where money settles; nil: the embedded ledger.
	Chain *evm.Backend
	// Network is the named network this run is on (--network or
	// Settings); "": the ledger on the public network, or a --pool.
	Network string
	Log     *slog.Logger
}

// providerNode is a daemon and the market's provider side working for it.
type providerNode struct {
	Daemon    *node.Daemon
	Provider  *provider.Provider
	Household *household.Service
	Chain     *evm.Backend // nil: the embedded ledger
	Relay     *ownerRelay  // follows a metered connection while it runs
}

// buildNode wires a provider node; run it with Serve.
func buildNode(p nodeParts) (*providerNode, error) {
	pc := provider.Config{Host: p.Host, Wallet: p.Wallet, Sandbox: p.Sandbox, DataDir: p.DataDir,
		Policy: p.Policy, Reserve: p.Reserve, Cache: p.Cache, IOUs: p.IOUs, Log: p.Log}
	if p.Chain != nil {
		pc.Chain, pc.Token = p.Chain, p.Chain.Network.Token
	}
	prov, err := provider.New(pc)
	if err != nil {
		return nil, err
	}
	key, err := p.Wallet.Key()
	if err != nil {
		return nil, err
	}
	hh, err := household.New(household.Config{Host: p.Host.LibP2P(), DataDir: p.DataDir, Key: key, Log: p.Log})
	if err != nil {
		return nil, err
	}
	relay := &ownerRelay{h: p.Host, metered: meteredConnection, watch: watchMetered, log: p.Log}
	cfg := node.DaemonConfig{DataDir: p.DataDir, Sandbox: p.Sandbox, Settings: p.Settings, Version: version, Log: p.Log,
		Market: prov, Wallet: p.Wallet, Pinned: p.Pinned, Notice: p.Notice, Household: hh,
		Relay: relay}
	if p.Submitter != nil {
		cfg.Submitter = p.Submitter
	}
	if p.Chain != nil {
		cfg.Chain, cfg.NetworkInUse = walletChain{p.Chain}, p.Chain.Network.Name
	}
	if p.Network != "" {
		cfg.NetworkInUse = p.Network
	}
	if nets, err := networks.Load(p.DataDir); err != nil {
		p.Log.Warn("reading the named networks for Settings", "err", err)
	} else {
		cfg.Networks = slices.Sorted(maps.Keys(nets))
	}
	return &providerNode{Daemon: node.NewDaemon(cfg), Provider: prov, Household: hh, Chain: p.Chain, Relay: relay}, nil
}

// Serve runs the daemon and the provider until ctx ends, an owner stops
// the daemon (POST /v1/stop), or one of them fails, which stops the
// others. It returns once all have stopped: jobs drained, final receipts
// sent, the LocalAPI closed.
func (n *providerNode) Serve(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { defer stop(); return n.Daemon.Serve(ctx) })
	g.Go(func() error { return n.Provider.Serve(ctx, n.Daemon) })
	g.Go(func() error { return n.Household.Serve(ctx, n.Daemon) })
	g.Go(func() error { n.Relay.Serve(ctx); return nil })
	if n.Chain != nil {
		g.Go(func() error { return serveChain(ctx, n.Chain) })
	}
	return g.Wait()
}

// walletChain shows a Backend's network on the Wallet page
// (node.WalletChain).
type walletChain struct{ b *evm.Backend }

func (w walletChain) Network() (string, uint64, string) {
	return w.b.Network.Name, w.b.Network.ChainID, w.b.Network.Symbol
}

func (w walletChain) TokenBalance(ctx context.Context, a common.Address) (wallet.Amount, error) {
	return w.b.TokenBalance(ctx, a)
}

func (w walletChain) TxURL(tx common.Hash) string { return w.b.Network.TxURL(tx) }

func (w walletChain) TokenPerNative() uint64 { return w.b.Network.TokenPerNative }

func (w walletChain) SettleRule(ctx context.Context) localapi.SettleRule {
	return settleRule(ctx, w.b)
}

func (w walletChain) WithdrawableAt(ctx context.Context, id common.Hash) (time.Time, error) {
	ch, err := w.b.Channel(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	return ch.WithdrawableAt(), nil
}

// settleRule is b's settlement policy as it stands, as GET /v1/wallet
// gives it.
func settleRule(ctx context.Context, b *evm.Backend) localapi.SettleRule {
	need, gas := b.SettleNeed(ctx)
	return localapi.SettleRule{Threshold: localapi.Amount(need), Base: localapi.Amount(b.Policy.Need(0)), GasFactor: b.Policy.Factor(),
		GasCost: localapi.Amount(gas), CheckSeconds: int64(evm.DefaultWatchInterval / time.Second)}
}

// serveChain finishes settlements a crash interrupted, then watches for
// close requests on channels paying this wallet and settles before their
// grace period ends.
func serveChain(ctx context.Context, b *evm.Backend) error {
	if amt, err := b.SettleAll(ctx); err != nil && ctx.Err() == nil {
		slog.Warn("settling vouchers left from before the restart failed; retried on the next close request", "err", err)
	} else if amt > 0 {
		slog.Info("settled vouchers left from before the restart", "amount", amt.String())
	}
	return (&evm.Watcher{Backend: b}).Serve(ctx)
}
