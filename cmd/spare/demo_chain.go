package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// Playground money on a development chain.
const (
	// demoFaucet is the test tokens the playground's requester mints
	// itself when it deploys the contracts.
	demoFaucet = 1000 * 1_000_000
	// demoDeposit is what the playground's requester deposits into its
	// channel on a chain: several jobs' worth, so that the channel opened
	// for the first job pays the next ones with no transaction of theirs.
	demoDeposit = 1_000_000
	// demoSettleWait bounds waiting, after the last job, for the provider's
	// settlements to be confirmed before the report.
	demoSettleWait = time.Minute
)

// demoChain is the playground's money on a local development chain (geth
// --dev): both wallets' backends, and every transaction they sent.
type demoChain struct {
	net      evm.Network
	client   *ethclient.Client
	prov     *evm.Backend
	req      *evm.Backend
	provAddr common.Address

	mu  sync.Mutex
	txs []demoTx
}

type demoTx struct {
	who, call string
	tx        common.Hash
}

// openDemoChain connects the playground to the chain cf names (on the
// requester's data dir); when the preset is missing, or its contracts are
// not on this chain (a fresh dev node), and the chain is a development
// chain, it deploys them from the requester's key, mints it test tokens
// and writes the preset into both data dirs. The provider gets gas from
// the developer account.
func openDemoChain(ctx context.Context, cf *chainFlags, provDir, reqDir string, pw, rw *wallet.Wallet, out io.Writer, log *slog.Logger) (*demoChain, error) {
	rkey, err := rw.Key()
	if err != nil {
		return nil, err
	}
	pkey, err := pw.Key()
	if err != nil {
		return nil, err
	}
	var cl *ethclient.Client
	n, err := evm.Choose(reqDir, cf.network, cf.rpc)
	old := n
	if err == nil {
		cl, err = evm.Dial(ctx, n)
	}
	if err != nil {
		if gone(err) {
			// The preset's chain ID answers with no contracts: a
			// development chain started afresh. Its channels went with it.
			for _, w := range []*wallet.Wallet{pw, rw} {
				if rerr := retireChannels(ctx, w, old); rerr != nil {
					return nil, rerr
				}
			}
		}
		// No usable preset yet (the playground's first run, or a fresh dev
		// node): deploy one under the name asked for.
		log.Info("deploying the playground's contracts", "why", err)
		base := evm.Local()
		if cf.network != "" {
			base.Name = cf.network
		}
		if cf.rpc != "" {
			base.RPC = []string{cf.rpc}
		}
		who := "--network " + base.Name
		if cf.saved {
			who = cf.origin()
		}
		if cl, err = redeploy(ctx, who, base, reqDir, rkey, out, log); err != nil {
			return nil, err
		}
		if n, err = evm.Choose(reqDir, cf.network, cf.rpc); err != nil {
			cl.Close()
			return nil, err
		}
	}
	if n.Name == "" {
		n.Name = evm.LocalNetwork
	}
	if err := evm.SaveNetwork(reqDir, n); err != nil {
		cl.Close()
		return nil, err
	}
	if err := evm.SaveNetwork(provDir, n); err != nil {
		cl.Close()
		return nil, err
	}
	d := &demoChain{net: n, client: cl, provAddr: pkey.Address()}
	if err := devGas(ctx, cl, pkey.Address()); err != nil {
		cl.Close()
		return nil, err
	}
	if d.prov, err = evm.Open(ctx, cl, n, pkey, pw.Ledger, log); err != nil {
		cl.Close()
		return nil, err
	}
	if d.req, err = evm.Open(ctx, cl, n, rkey, rw.Ledger, log); err != nil {
		cl.Close()
		return nil, err
	}
	d.prov.Progress, d.req.Progress = d.printer("provider", out), d.printer("requester", out)
	fmt.Fprintf(out, "spare demo: money on %s (chain %d, escrow %s, token %s)\n", n.Name, n.ChainID, n.Escrow.Hex(), n.Symbol)
	return d, nil
}

// redeploy deploys the contracts on the development chain at n's RPC and
// writes the preset into the requester's data dir (Choose then finds it).
// who names what chose the network, for errors.
func redeploy(ctx context.Context, who string, n evm.Network, reqDir string, key *wallet.Key, out io.Writer, log *slog.Logger) (*ethclient.Client, error) {
	if len(n.RPC) == 0 {
		return nil, fmt.Errorf("%s: the preset names no RPC URL", who)
	}
	cl, err := ethclient.DialContext(ctx, n.RPC[0])
	if err != nil {
		return nil, fmt.Errorf("--rpc: %w", err)
	}
	if _, err := cl.ChainID(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("%s: the chain's node does not answer (%w); start one (geth --dev: scripts/geth.sh builds it) or give --rpc URL", who, err)
	}
	if _, dev := evm.DevAccount(ctx, cl); !dev {
		cl.Close()
		return nil, fmt.Errorf("%s: its contracts are not on the chain at %s, and the playground deploys only on a development chain (geth --dev: scripts/geth.sh builds geth; or `spare chain deploy`)", who, n.RPC[0])
	}
	fmt.Fprintln(out, "spare demo: deploying the escrow and the test token on the development chain")
	dn, err := evm.Deploy(ctx, cl, key, evm.DeployOptions{Name: n.Name, RPC: n.RPC[0], Faucet: demoFaucet, Explorer: n.Explorer,
		Progress: progressPrinter(out, n), Log: log})
	if err == nil {
		err = evm.SaveNetwork(reqDir, dn)
	}
	if err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// gone reports a preset whose chain answers with its chain ID but without
// its contracts.
func gone(err error) bool {
	var fe *evm.FieldError
	return errors.As(err, &fe) && (fe.Field == evm.FieldEscrow || fe.Field == evm.FieldToken)
}

// retireChannels records closed, with nothing refunded, every channel of
// w's on the preset's escrow: the chain that held them is gone, and what
// they held with it (the wallet shows it lost, not pending for ever).
func retireChannels(ctx context.Context, w *wallet.Wallet, n evm.Network) error {
	key, err := w.Key()
	if err != nil {
		return err
	}
	chs, err := w.Ledger.Channels(ctx, key.Address())
	if err != nil {
		return err
	}
	dom := wallet.Domain{ChainID: n.ChainID, Contract: n.Escrow}
	for _, ch := range chs {
		if ch.Backend != evm.BackendName || ch.Domain != dom || ch.State == "closed" {
			continue
		}
		if err := w.Ledger.MarkClosed(ctx, ch.ID, 0); err != nil {
			return fmt.Errorf("retiring channel %s of the earlier development chain: %w", ch.ID.Hex(), err)
		}
	}
	return nil
}

// devGas gives a wallet gas from the development chain's unlocked account
// when it holds less than half of evm.DevGas.
func devGas(ctx context.Context, cl *ethclient.Client, to common.Address) error {
	have, err := cl.BalanceAt(ctx, to, nil)
	if err != nil {
		return fmt.Errorf("reading %s's gas: %w", to.Hex(), err)
	}
	if have.Cmp(new(big.Int).Rsh(evm.DevGas, 1)) >= 0 {
		return nil
	}
	dev, ok := evm.DevAccount(ctx, cl)
	if !ok {
		return fmt.Errorf("the provider %s has no gas for settlements and the chain is not a development chain: send it some", to.Hex())
	}
	var tx common.Hash
	arg := map[string]any{"from": dev, "to": to, "value": (*hexutil.Big)(evm.DevGas)}
	if err := cl.Client().CallContext(ctx, &tx, "eth_sendTransaction", arg); err != nil {
		return fmt.Errorf("gas for the provider from the developer account: %w", err)
	}
	_, err = bind.WaitMinedHash(ctx, cl, tx)
	return err
}

// printer prints who sent each transaction and records it.
func (d *demoChain) printer(who string, out io.Writer) func(evm.Progress) {
	return func(p evm.Progress) {
		if p.Confirmations != 0 {
			return
		}
		d.mu.Lock()
		d.txs = append(d.txs, demoTx{who: who, call: p.Call, tx: p.Tx})
		d.mu.Unlock()
		link := ""
		if u := d.net.TxURL(p.Tx); u != "" {
			link = " " + u
		}
		fmt.Fprintf(out, "spare demo: %s: %s: sent %s%s\n", who, p.Call, p.Tx.Hex(), link)
	}
}

// settled waits (bounded) until the provider's ledger holds no voucher
// beyond what is settled on chain, on a channel still open.
func (d *demoChain) settled(ctx context.Context, pw *wallet.Wallet) {
	ctx, cancel := context.WithTimeout(ctx, demoSettleWait)
	defer cancel()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		if p, err := pw.Ledger.Pending(ctx, d.provAddr); err == nil && !slices.ContainsFunc(p, stillOpen) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func stillOpen(p wallet.PendingRow) bool { return p.State != "closed" }

// report prints the transactions this run sent and the provider's token
// balance on chain.
func (d *demoChain) report(ctx context.Context, out io.Writer, provTokens0 wallet.Amount) {
	d.mu.Lock()
	txs := append([]demoTx(nil), d.txs...)
	d.mu.Unlock()
	fmt.Fprintf(out, "%d transaction(s) on %s (chain %d):\n", len(txs), d.net.Name, d.net.ChainID)
	for _, t := range txs {
		link := ""
		if u := d.net.TxURL(t.tx); u != "" {
			link = " " + u
		}
		fmt.Fprintf(out, "  %-9s %-8s %s%s\n", t.who, t.call, t.tx.Hex(), link)
	}
	if bal, err := d.prov.TokenBalance(ctx, d.provAddr); err == nil {
		fmt.Fprintf(out, "provider's tokens on chain: %s %s (+%s this run)\n", bal, d.net.Symbol, bal-provTokens0)
	}
}

func (d *demoChain) Close() { d.client.Close() }

// backend is the provider's backend; nil without a chain (the ledger).
func (d *demoChain) backend() *evm.Backend {
	if d == nil {
		return nil
	}
	return d.prov
}
