package node

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
)

// chainReadTimeout bounds reading the wallet's token balance for GET
// /v1/wallet: a slow node shows an error beside the balance, never a
// hung page.
const chainReadTimeout = 3 * time.Second

// money says where the wallet's money is: with a chain, its name, the
// token balance on it, what is pending settlement and when it settles,
// the transactions sent, and what their gas cost (with the network's
// rate, in the token too, and settled minus it as the net); without one,
// the embedded ledger (IOUs).
func (d *Daemon) money(ctx context.Context, me common.Address, settled wallet.Amount) (localapi.Funds, error) {
	c := d.cfg.Chain
	if c == nil {
		return localapi.Funds{}, nil
	}
	var m localapi.Funds
	m.Network, m.ChainID, m.Symbol = c.Network()
	rctx, cancel := context.WithTimeout(ctx, chainReadTimeout)
	bal, err := c.TokenBalance(rctx, me)
	cancel()
	if err != nil {
		m.OnChainError = "could not read the balance on the chain just now: " + err.Error()
	} else {
		m.OnChain = localapi.Amount(bal)
	}
	l := d.cfg.Wallet.Ledger
	pend, err := l.Pending(ctx, me)
	if err != nil {
		return m, err
	}
	// When each channel's payer may withdraw: a chain channel's close
	// request is on the chain (the ledger does not hear of it), and its
	// lock may put the date later than request + grace; the embedded
	// ledger's is in the ledger.
	rctx, cancel = context.WithTimeout(ctx, chainReadTimeout)
	defer cancel()
	for _, p := range pend {
		ps := localapi.PendingSettlement{Channel: p.Channel.Hex(), Amount: localapi.Amount(p.Amount), Waiting: p.Waiting}
		if p.CloseRequestedAt != 0 {
			ps.By = time.Unix(p.CloseRequestedAt, 0).Add(wallet.CloseGrace).UTC()
		}
		if p.Backend != wallet.LedgerBackend {
			if at, err := c.WithdrawableAt(rctx, p.Channel); err == nil && !at.IsZero() {
				ps.By = at.UTC()
			}
		}
		m.Pending = append(m.Pending, ps)
	}
	if len(m.Pending) > 0 {
		rctx, cancel := context.WithTimeout(ctx, chainReadTimeout)
		m.Settle = c.SettleRule(rctx)
		cancel()
	}
	txs, err := l.Transactions(ctx, localapi.MaxHistory)
	if err != nil {
		return m, err
	}
	rate := c.TokenPerNative()
	for _, t := range txs {
		tx := localapi.Transaction{At: t.At, Kind: t.Kind, Hash: t.Tx.Hex(),
			URL: c.TxURL(t.Tx), Amount: localapi.Amount(t.Amount), Dropped: t.Dropped, Reverted: t.Reverted, GasUsed: t.GasUsed}
		if t.GasPrice != 0 {
			wei := wallet.GasWei(t.GasUsed, t.GasPrice)
			tx.GasWei = wei.String()
			if tok, ok := wallet.WeiInToken(wei, rate); ok {
				tx.GasToken = localapi.Amount(tok)
			}
		}
		m.Transactions = append(m.Transactions, tx)
	}
	g, err := l.GasSpent(ctx)
	if err != nil {
		return m, err
	}
	m.Gas = localapi.GasSpent{Txs: g.Txs, Used: g.Used, Wei: g.Wei.String(), Unpriced: g.Unpriced}
	if tok, ok := wallet.WeiInToken(g.Wei, rate); ok {
		m.Gas.Priced, m.Gas.Token, m.Gas.Net = true, localapi.Amount(tok), localapi.Amount(settled-tok)
	}
	return m, nil
}
