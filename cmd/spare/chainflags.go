package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sparegpu/spare/networks"
	"github.com/sparegpu/spare/settings"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// chainFlags pick where money settles: --network NAME (a preset from
// DATA/networks.json or the built-in local shape) and --rpc URL (in place
// of the preset's URLs). Neither: the network chosen in Settings
// (resolve), else the embedded ledger; --network ledger: the embedded
// ledger whatever Settings say.
type chainFlags struct {
	network string
	rpc     string
	saved   bool // network is the one chosen in Settings: no flag named one
	// ledger: network names a network that settles in the embedded
	// ledger (a private pool's, package networks), set by resolve.
	ledger bool
}

// networksFile is where named networks are kept, for messages.
const networksFile = evm.NetworksFile

// ledgerNetwork on --network is the embedded ledger (IOUs).
const ledgerNetwork = "ledger"

func (c *chainFlags) register(f interface {
	StringVar(p *string, name, value, usage string)
}) {
	f.StringVar(&c.network, "network", "", "the named network this node is on (DATA/"+evm.NetworksFile+", or the built-in "+evm.LocalNetwork+
		" or "+ledgerNetwork+"): how money settles (a chain preset, or the embedded ledger) and which peers it meets (the public Spare network, or the network's private pool); default: the network chosen in Settings, else "+ledgerNetwork+" on the public network")
	f.StringVar(&c.rpc, "rpc", "", "JSON-RPC URL of the chain's node, in place of the preset's (alone: the "+evm.LocalNetwork+" preset)")
}

// onChain reports whether a chain was asked for (by a flag, or by
// Settings once resolved).
func (c *chainFlags) onChain() bool {
	return !c.ledger && c.network != ledgerNetwork && (c.network != "" || c.rpc != "")
}

// given reports whether a flag chose where money settles (--network
// ledger included).
func (c *chainFlags) given() bool { return !c.saved && (c.network != "" || c.rpc != "") }

// resolve takes the network chosen in Settings (DATA/settings.json) when
// no flag chose one; a flag wins. An unreadable settings file is an
// error, never a silent fallback to the ledger.
func (c *chainFlags) resolve(dir string) error {
	if c.network == ledgerNetwork && c.rpc != "" {
		return usageError{fmt.Errorf("--rpc %s with --network %s: the embedded ledger has no node; drop one of them", c.rpc, ledgerNetwork)}
	}
	if !c.given() && !c.saved {
		saved, found, err := settings.Load(dir)
		if err != nil {
			return fmt.Errorf("the network chosen in Settings: %w; or choose one with --network (%s: the embedded ledger)", err, ledgerNetwork)
		}
		if found && saved.Network != "" {
			c.network, c.saved = saved.Network, true
		}
	}
	return c.settleLedger(dir)
}

// settleLedger marks a named network that settles in the embedded ledger
// (a private pool's), so that no chain is dialled for it. A name the
// file does not hold is left for choose to report.
func (c *chainFlags) settleLedger(dir string) error {
	if c.network == "" || c.network == ledgerNetwork {
		return nil
	}
	n, err := networks.Resolve(dir, c.network)
	if err != nil || n.Chain != nil {
		return nil
	}
	c.ledger = true
	if c.rpc != "" {
		return usageError{fmt.Errorf("--rpc %s with %s: network %q settles in the embedded ledger, which has no node; drop one of them",
			c.rpc, originFlag(c.origin(), c.network), c.network)}
	}
	return nil
}

// origin names what chose the network, for errors.
func (c *chainFlags) origin() string {
	if c.saved {
		return "the network chosen in Settings (" + c.network + ")"
	}
	return "--network"
}

// connect resolves the preset and dials it, checking the chain ID and the
// contracts; any mismatch is an error naming the field, never a fallback
// to the ledger.
func (c *chainFlags) connect(ctx context.Context, dir string) (evm.Network, *ethclient.Client, error) {
	n, err := c.choose(dir)
	if err != nil {
		return n, nil, err
	}
	cl, err := evm.Dial(ctx, n)
	if err != nil {
		if c.saved {
			return n, nil, fmt.Errorf("%s: %w", c.origin(), err)
		}
		return n, nil, fmt.Errorf("--network %s: %w", n.Name, err)
	}
	return n, cl, nil
}

// choose is the chosen preset (evm.Choose), its error naming what chose it.
func (c *chainFlags) choose(dir string) (evm.Network, error) {
	n, err := evm.Choose(dir, c.network, c.rpc)
	if err != nil {
		return n, fmt.Errorf("%s: %w", c.origin(), err)
	}
	return n, nil
}

// open connects to the chosen network and opens the wallet's backend on
// it; nil without --network or --rpc. Close with the returned function.
func (c *chainFlags) open(ctx context.Context, g *globals, dir string, w *wallet.Wallet) (*evm.Backend, func(), error) {
	if !c.onChain() {
		return nil, func() {}, nil
	}
	n, cl, err := c.connect(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	key, err := w.Key()
	if err != nil {
		cl.Close()
		return nil, nil, err
	}
	b, err := evm.Open(ctx, cl, n, key, w.Ledger, g.log)
	if err != nil {
		cl.Close()
		return nil, nil, err
	}
	return b, cl.Close, nil
}

// progressPrinter prints each transaction's way to confirmed.
func progressPrinter(out io.Writer, n evm.Network) func(evm.Progress) {
	return func(p evm.Progress) {
		switch {
		case p.Confirmations == 0:
			link := ""
			if u := n.TxURL(p.Tx); u != "" {
				link = " " + u
			}
			fmt.Fprintf(out, "%s: sent %s%s\n", p.Call, p.Tx.Hex(), link)
		default:
			fmt.Fprintf(out, "%s: %d/%d confirmations\n", p.Call, p.Confirmations, p.Want)
		}
	}
}
