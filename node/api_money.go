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
// and the transactions sent; without one, the embedded ledger (IOUs).
func (d *Daemon) money(ctx context.Context, me common.Address) (localapi.Funds, error) {
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
	for _, p := range pend {
		ps := localapi.PendingSettlement{Channel: p.Channel.Hex(), Amount: localapi.Amount(p.Amount)}
		if p.CloseRequestedAt != 0 {
			ps.By = time.Unix(p.CloseRequestedAt, 0).Add(wallet.CloseGrace).UTC()
		}
		m.Pending = append(m.Pending, ps)
	}
	txs, err := l.Transactions(ctx, localapi.MaxHistory)
	if err != nil {
		return m, err
	}
	for _, t := range txs {
		m.Transactions = append(m.Transactions, localapi.Transaction{At: t.At, Kind: t.Kind, Hash: t.Tx.Hex(),
			URL: c.TxURL(t.Tx), Amount: localapi.Amount(t.Amount), Dropped: t.Dropped})
	}
	return m, nil
}
