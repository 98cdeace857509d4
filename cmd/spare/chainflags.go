package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// chainFlags pick where money settles: --network NAME (a preset from
// DATA/networks.json or the built-in local shape) and --rpc URL (in place
// of the preset's URLs). Neither: the embedded ledger.
type chainFlags struct {
	network string
	rpc     string
}

func (c *chainFlags) register(f interface {
	StringVar(p *string, name, value, usage string)
}) {
	f.StringVar(&c.network, "network", "", "settle on this chain network preset (DATA/"+evm.NetworksFile+", or the built-in "+evm.LocalNetwork+"); default: the embedded ledger")
	f.StringVar(&c.rpc, "rpc", "", "JSON-RPC URL of the chain's node, in place of the preset's (alone: the "+evm.LocalNetwork+" preset)")
}

// onChain reports whether a chain was asked for.
func (c *chainFlags) onChain() bool { return c.network != "" || c.rpc != "" }

// connect resolves the preset and dials it, checking the chain ID and the
// contracts; any mismatch is an error naming the field, never a fallback
// to the ledger.
func (c *chainFlags) connect(ctx context.Context, dir string) (evm.Network, *ethclient.Client, error) {
	n, err := evm.Choose(dir, c.network, c.rpc)
	if err != nil {
		return n, nil, fmt.Errorf("--network: %w", err)
	}
	cl, err := evm.Dial(ctx, n)
	if err != nil {
		return n, nil, fmt.Errorf("--network %s: %w", n.Name, err)
	}
	return n, cl, nil
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
