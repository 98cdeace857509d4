package wallet

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// PendingTx is a settlement transaction signed and recorded before it is
// sent: after a crash the same transaction (same nonce) is sent again or
// found mined, so a voucher is settled exactly once.
type PendingTx struct {
	Hash       common.Hash
	ChainID    uint64
	ChannelID  common.Hash
	Cumulative Amount
	Amount     Amount // what it pays, computed when signed
	Kind       string // settle or close
	Nonce      uint64
	Raw        []byte // the signed transaction, binary encoded
}

// RecordPendingTx stores a signed settlement transaction; call it before
// sending the transaction.
func (l *Ledger) RecordPendingTx(ctx context.Context, p PendingTx) error {
	if p.Cumulative <= 0 || p.Amount < 0 || len(p.Raw) == 0 {
		return fmt.Errorf("pending transaction %s: %w: cumulative must be positive, amount not negative, raw set", p.Hash.Hex(), ErrAmount)
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pending_txs (hash, chain_id, channel_id, cumulative, amount, kind, nonce, raw, status, at)
			VALUES (?,?,?,?,?,?,?,?,'pending',?)`, p.Hash.Hex(), int64(p.ChainID), p.ChannelID.Hex(), int64(p.Cumulative), int64(p.Amount),
			p.Kind, int64(p.Nonce), p.Raw, ledgerNow().Unix())
		if err != nil {
			return fmt.Errorf("recording pending transaction: %w", err)
		}
		return nil
	})
}

// PendingTxs lists chain's settlement transactions not yet known mined,
// in nonce order.
func (l *Ledger) PendingTxs(ctx context.Context, chain uint64) ([]PendingTx, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT hash, channel_id, cumulative, amount, kind, nonce, raw FROM pending_txs
		WHERE status = 'pending' AND chain_id = ? ORDER BY nonce`, int64(chain))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingTx
	for rows.Next() {
		p := PendingTx{ChainID: chain}
		var h, ch string
		if err := rows.Scan(&h, &ch, &p.Cumulative, &p.Amount, &p.Kind, &p.Nonce, &p.Raw); err != nil {
			return nil, err
		}
		p.Hash, p.ChannelID = common.HexToHash(h), common.HexToHash(ch)
		out = append(out, p)
	}
	return out, rows.Err()
}

// ConfirmPendingTx records a pending transaction as mined and its
// settlement, in one transaction. A settlement the ledger holds already
// for the hash (dropped by a reorg and now mined again) is confirmed
// again at its new block.
func (l *Ledger) ConfirmPendingTx(ctx context.Context, s SettlementRecord) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE pending_txs SET status = 'mined' WHERE hash = ?`, s.TxHash.Hex()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE settlements SET status = 'confirmed', block_hash = ?, block_number = ?, gas_used = ?, gas_price = ? WHERE tx_hash = ?`,
			s.BlockHash.Hex(), s.BlockNumber, s.GasUsed, int64(s.GasPrice), s.TxHash.Hex())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		return insertSettlement(ctx, tx, s)
	})
}

// FailPendingTx records that a pending transaction will not be mined (it
// reverted, or its nonce went to another transaction).
func (l *Ledger) FailPendingTx(ctx context.Context, hash common.Hash) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE pending_txs SET status = 'failed' WHERE hash = ?`, hash.Hex())
		return err
	})
}

// MarkClosed records that a channel closed on-chain, refunding refunded
// to its payer: what its payee held beyond what was settled is then lost,
// not pending (Balance.Lost).
func (l *Ledger) MarkClosed(ctx context.Context, id common.Hash, refunded Amount) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE channels SET state = 'closed', refunded = ? WHERE id = ? AND state != 'closed'`, int64(refunded), id.Hex())
		return err
	})
}
