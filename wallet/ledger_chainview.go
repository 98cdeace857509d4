package wallet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// TxRow is one transaction the wallet sent on a chain and recorded: a
// settlement (kind settle or close), a payout, or another call (approve,
// open, topUp, requestClose, withdraw, …; a reverted one of any kind).
type TxRow struct {
	At      time.Time
	Kind    string // settle, close, payout, or the call (approve, open, …)
	Tx      common.Hash
	Amount  Amount
	Dropped bool // a reorg took it out of the chain
	// Reverted: mined and failed; it cost its gas and did nothing.
	Reverted bool
	// GasUsed and GasPrice (wei per unit; 0: not known) are what the
	// transaction's gas cost.
	GasUsed  uint64
	GasPrice uint64
}

// Transactions lists the latest on-chain transactions, newest first, at
// most limit. Ledger-backend settlements and payouts carry no transaction
// and are not listed.
func (l *Ledger) Transactions(ctx context.Context, limit int) ([]TxRow, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := l.db.QueryContext(ctx, `SELECT at, kind, tx, amount, dropped, gas_used, gas_price, reverted FROM (
		SELECT at, kind, tx_hash AS tx, amount, status = 'dropped' AS dropped, gas_used, gas_price, 0 AS reverted FROM settlements WHERE tx_hash != ''
		UNION ALL
		SELECT at, 'payout', reference, amount, 0, gas_used, gas_price, 0 FROM payouts WHERE reference LIKE '0x%' AND length(reference) = 66
		UNION ALL
		SELECT at, kind, hash, amount, status = 'dropped', gas_used, gas_price, reverted FROM chain_txs WHERE status IN ('mined','dropped')
	) ORDER BY at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("reading transactions: %w", err)
	}
	defer rows.Close()
	var out []TxRow
	for rows.Next() {
		var r TxRow
		var at int64
		var tx string
		var used, price int64
		if err := rows.Scan(&at, &r.Kind, &tx, &r.Amount, &r.Dropped, &used, &price, &r.Reverted); err != nil {
			return nil, fmt.Errorf("reading transactions: %w", err)
		}
		r.At, r.Tx, r.GasUsed, r.GasPrice = time.Unix(at, 0).UTC(), common.HexToHash(tx), uint64(used), uint64(price)
		out = append(out, r)
	}
	return out, rows.Err()
}

// PendingRow is what one channel paying me holds in vouchers beyond what
// is settled.
type PendingRow struct {
	Channel          common.Hash
	Backend          string
	Amount           Amount
	State            string // open, closing or closed
	CloseRequestedAt int64  // unix seconds; 0: none
	// Waiting says why a settlement sent for it is not mined yet (its fee
	// is at the cap); empty: none waits, or for no stated reason.
	Waiting string
}

// Pending lists the channels paying me with unsettled vouchers, oldest
// first.
func (l *Ledger) Pending(ctx context.Context, me common.Address) ([]PendingRow, error) {
	chs, err := l.Channels(ctx, me)
	if err != nil {
		return nil, err
	}
	var out []PendingRow
	for _, ch := range chs {
		if ch.Payee != me {
			continue
		}
		best, err := bestCumulative(ctx, l.db, ch.ID)
		if err != nil {
			return nil, err
		}
		set, err := l.Settled(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		if best <= set {
			continue
		}
		row := PendingRow{Channel: ch.ID, Backend: ch.Backend, Amount: best - set, State: ch.State, CloseRequestedAt: ch.CloseRequestedAt}
		err = l.db.QueryRowContext(ctx, `SELECT note FROM pending_txs WHERE channel_id = ? AND status = 'pending' AND note != '' ORDER BY rowid DESC LIMIT 1`,
			ch.ID.Hex()).Scan(&row.Waiting)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reading why %s waits: %w", ch.ID.Hex(), err)
		}
		out = append(out, row)
	}
	return out, nil
}
