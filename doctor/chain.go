package doctor

import (
	"context"
	"fmt"
	"math/big"
)

// Chain is what the chain checks ask of a network preset for this
// wallet (package wallet/evm's Probe).
type Chain interface {
	Reachable(ctx context.Context) error
	ChainID(ctx context.Context) error
	Contracts(ctx context.Context) error
	// Gas is how many settlements the wallet's native coin pays for, and
	// how much it lacks (wei) of the reserve a provider should hold.
	Gas(ctx context.Context) (settlements uint64, short *big.Int, err error)
}

// ChainChecks are the checks for settling on network (the preset's
// name) from wallet (its address): the RPC answers, the chain ID and the
// contracts are the preset's, and the wallet holds gas for settlements.
func ChainChecks(c Chain, network, wallet string) []Check {
	presets := "DATA/networks.json"
	return []Check{
		{Name: "chain rpc", Required: true, Run: func(ctx context.Context) Result {
			if err := c.Reachable(ctx); err != nil {
				return Result{Status: Fail, Detail: fmt.Sprintf("network %s: %v", network, err),
					Fix: "start the chain's node, or correct rpc in " + presets + " (or pass --rpc URL)"}
			}
			return Result{Status: OK, Detail: "network " + network + ": the node answers"}
		}},
		{Name: "chain id", Required: true, Run: func(ctx context.Context) Result {
			if err := c.ChainID(ctx); err != nil {
				return Result{Status: Fail, Detail: err.Error(), Fix: "point rpc at the preset's chain, or correct chain_id in " + presets}
			}
			return Result{Status: OK, Detail: "the node's chain is the preset's"}
		}},
		{Name: "chain contracts", Required: true, Run: func(ctx context.Context) Result {
			if err := c.Contracts(ctx); err != nil {
				return Result{Status: Fail, Detail: err.Error(), Fix: "spare chain deploy --rpc URL, or correct escrow and token in " + presets}
			}
			return Result{Status: OK, Detail: "escrow and token are on the chain"}
		}},
		{Name: "chain gas", Run: func(ctx context.Context) Result {
			n, short, err := c.Gas(ctx)
			if err != nil {
				return Result{Status: Fail, Detail: err.Error(), Fix: "check the chain's node (see chain rpc)"}
			}
			fix := fmt.Sprintf("send at least %s wei of the chain's native coin to %s: settlements pay gas", short, wallet)
			switch {
			case n == 0:
				return Result{Status: Fail, Detail: "the wallet cannot pay the gas of one settlement: earnings cannot reach the chain", Fix: fix}
			case short.Sign() > 0:
				return Result{Status: Warn, Detail: fmt.Sprintf("gas for %d settlements at today's price", n), Fix: fix}
			}
			return Result{Status: OK, Detail: fmt.Sprintf("gas for %d or more settlements at today's price", min(n, 1_000_000))}
		}},
	}
}
