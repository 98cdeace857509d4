package evm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/contracts"
)

// DeployOptions say what `spare chain deploy` puts on a chain.
type DeployOptions struct {
	// Name of the preset written; empty: "local" on a development chain.
	Name string
	// RPC is the URL the preset records.
	RPC string
	// Token is the ERC-20 deposits are made in; zero: deploy the test
	// token (only on a development chain, where it has no value).
	Token common.Address
	// Faucet is how much test token to mint to the deploying wallet on a
	// development chain; zero: none.
	Faucet wallet.Amount
	// Confirmations each deployment waits for; 0 means 1.
	Confirmations uint64
	// Explorer is the preset's URL template ("…/tx/{tx}"); empty: none.
	Explorer string
	// Progress hears of each transaction (nil: silent).
	Progress func(Progress)
	Log      *slog.Logger
}

// DevGas is what a development chain's unlocked account gives a
// deploying wallet that holds less, for gas.
var DevGas = new(big.Int).Mul(big.NewInt(10), big.NewInt(1e18))

// ErrNotDevChain reports a request only a development chain may grant.
var ErrNotDevChain = errors.New("not a development chain")

// DevAccount returns the node's unlocked developer account, which geth
// --dev and anvil offer: a chain that has one is a development chain.
func DevAccount(ctx context.Context, c *ethclient.Client) (common.Address, bool) {
	var accts []common.Address
	if err := c.Client().CallContext(ctx, &accts, "eth_accounts"); err != nil || len(accts) == 0 {
		return common.Address{}, false
	}
	return accts[0], true
}

// Deploy puts the escrow (and, on a development chain, the test token) on
// the chain c reaches, deploying from key, waits for the confirmations,
// checks the result and returns the preset for it.
func Deploy(ctx context.Context, c *ethclient.Client, key *wallet.Key, o DeployOptions) (Network, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	chain, err := c.ChainID(ctx)
	if err != nil {
		return Network{}, fmt.Errorf("reading the chain ID: %w", err)
	}
	if !chain.IsUint64() {
		return Network{}, fmt.Errorf("chain ID %s is out of range", chain)
	}
	dev, isDev := DevAccount(ctx, c)
	if o.Name == "" && isDev {
		o.Name = LocalNetwork
	}
	if o.Token == (common.Address{}) && !isDev {
		return Network{}, fmt.Errorf("--token: %w: chain %s has no unlocked developer account, so the test token (worthless, open minting) is not deployed there; give the ERC-20 to pay in", ErrNotDevChain, chain)
	}
	if o.Faucet > 0 && !isDev {
		return Network{}, fmt.Errorf("--faucet: %w", ErrNotDevChain)
	}
	b := &Backend{client: c, key: key, chain: chain, Confirmations: max(o.Confirmations, 1), Progress: o.Progress,
		log: o.Log.With("component", "evm-deploy", "chain", chain.Uint64())}
	if isDev {
		if err := fundFromDev(ctx, c, b, dev); err != nil {
			return Network{}, err
		}
	}
	n := Network{Name: o.Name, ChainID: chain.Uint64(), RPC: []string{o.RPC}, Token: o.Token,
		Confirmations: o.Confirmations, Explorer: o.Explorer,
		// Written out so that the file shows what an owner may tune.
		MaxFeePercent: DefaultMaxFeePercent, BumpAfter: DefaultBumpAfter}
	if isDev {
		// Gas is free on a development chain: settle every job's end, so
		// people trying Spare see each settlement.
		n.SettleThreshold = 1
	}
	if n.Token == (common.Address{}) {
		if n.Token, err = deployContract(ctx, b, "deploy token", contracts.DeployTestToken); err != nil {
			return Network{}, err
		}
	}
	if n.Escrow, err = deployContract(ctx, b, "deploy escrow", contracts.DeploySpareEscrow); err != nil {
		return Network{}, err
	}
	tok, err := contracts.NewTestToken(n.Token, c)
	if err != nil {
		return Network{}, err
	}
	opts := &bind.CallOpts{Context: ctx}
	if n.Symbol, err = tok.Symbol(opts); err != nil {
		return Network{}, fmt.Errorf("token %s: reading symbol(): %w", n.Token.Hex(), err)
	}
	if n.Decimals, err = tok.Decimals(opts); err != nil {
		return Network{}, fmt.Errorf("token %s: reading decimals(): %w", n.Token.Hex(), err)
	}
	if o.Faucet > 0 {
		if _, err := b.send(ctx, "faucet", txFor{amount: o.Faucet}, func(op *bind.TransactOpts) (*types.Transaction, error) {
			return tok.Mint(op, key.Address(), o.Faucet.Big())
		}); err != nil {
			return Network{}, err
		}
	}
	if err := n.Validate(); err != nil {
		return n, err
	}
	return n, Check(ctx, c, n)
}

func deployContract[T any](ctx context.Context, b *Backend, what string,
	deploy func(*bind.TransactOpts, bind.ContractBackend) (common.Address, *types.Transaction, T, error)) (common.Address, error) {
	var addr common.Address
	_, err := b.send(ctx, what, txFor{}, func(o *bind.TransactOpts) (*types.Transaction, error) {
		a, tx, _, err := deploy(o, b.client)
		addr = a
		return tx, err
	})
	return addr, err
}

// fundFromDev gives the deploying wallet gas from the development chain's
// unlocked account when it holds less than half of DevGas.
func fundFromDev(ctx context.Context, c *ethclient.Client, b *Backend, dev common.Address) error {
	me := b.key.Address()
	have, err := c.BalanceAt(ctx, me, nil)
	if err != nil {
		return fmt.Errorf("reading %s's balance: %w", me.Hex(), err)
	}
	if have.Cmp(new(big.Int).Rsh(DevGas, 1)) >= 0 {
		return nil
	}
	var tx common.Hash
	arg := map[string]any{"from": dev, "to": me, "value": (*hexutil.Big)(DevGas)}
	if err := c.Client().CallContext(ctx, &tx, "eth_sendTransaction", arg); err != nil {
		return fmt.Errorf("funding %s with gas from the developer account: %w", me.Hex(), err)
	}
	b.progress(Progress{Call: "gas from the developer account", Tx: tx, Want: b.Confirmations})
	rc, err := bind.WaitMinedHash(ctx, c, tx)
	if err != nil {
		return err
	}
	_, err = b.confirm(ctx, "gas", rc, b.Confirmations)
	return err
}
