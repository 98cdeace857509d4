package wallet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// PendingTx is a settlement transaction signed and recorded before it is
// sent: after a crash the same transaction (same nonce) is sent again or
// found mined, so a voucher is settled exactly once. A settlement left
// unmined is replaced by a transaction with the same nonce and a higher
// fee (Original names the first): only one of them can be mined.
type PendingTx struct {
	Hash       common.Hash
	ChainID    uint64
	ChannelID  common.Hash
	Cumulative Amount
	Amount     Amount // what it pays, computed when signed
	Kind       string // settle or close
	Nonce      uint64
	Raw        []byte // the signed transaction, binary encoded
	// Original is the hash of the settlement's first transaction; zero
	// (or Hash) for the first itself.
	Original common.Hash
	// SentBlock is the chain's head block when it was recorded, just
	// before it was sent: a replacement waits for blocks from there.
	SentBlock uint64
	// Note says why the settlement waits (e.g. its fee is at the cap).
	Note string
	// Status is pending, mined, failed or replaced (another transaction
	// of the settlement was mined); set when read back.
	Status string
}

// MaxPendingNote bounds a pending transaction's note.
const MaxPendingNote = 512

// RecordPendingTx stores a signed settlement transaction; call it before
// sending the transaction. A replacement (Original set) must have the
// same chain, nonce, channel and voucher as its original, still pending.
func (l *Ledger) RecordPendingTx(ctx context.Context, p PendingTx) error {
	if p.Cumulative <= 0 || p.Amount < 0 || len(p.Raw) == 0 {
		return fmt.Errorf("pending transaction %s: %w: cumulative must be positive, amount not negative, raw set", p.Hash.Hex(), ErrAmount)
	}
	orig := p.Original
	if orig == (common.Hash{}) {
		orig = p.Hash
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		if orig != p.Hash {
			var chain, nonce, cum int64
			var ch, status string
			err := tx.QueryRowContext(ctx, `SELECT chain_id, nonce, channel_id, cumulative, status FROM pending_txs WHERE hash = ?`, orig.Hex()).
				Scan(&chain, &nonce, &ch, &cum, &status)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("replacement %s: original %s: %w", p.Hash.Hex(), orig.Hex(), ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("replacement %s: %w", p.Hash.Hex(), err)
			}
			if uint64(chain) != p.ChainID || uint64(nonce) != p.Nonce || ch != p.ChannelID.Hex() || Amount(cum) != p.Cumulative || status != "pending" {
				return fmt.Errorf("replacement %s: original %s is %s on chain %d, nonce %d, channel %s, cumulative %d: a replacement must match it and it must be pending",
					p.Hash.Hex(), orig.Hex(), status, chain, nonce, ch, cum)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pending_txs (hash, chain_id, channel_id, cumulative, amount, kind, nonce, raw, status, at, original, sent_block)
			VALUES (?,?,?,?,?,?,?,?,'pending',?,?,?)`, p.Hash.Hex(), int64(p.ChainID), p.ChannelID.Hex(), int64(p.Cumulative), int64(p.Amount),
			p.Kind, int64(p.Nonce), p.Raw, ledgerNow().Unix(), orig.Hex(), int64(p.SentBlock))
		if err != nil {
			return fmt.Errorf("recording pending transaction: %w", err)
		}
		return nil
	})
}

// PendingTxs lists chain's settlement transactions not yet known mined,
// in nonce order, a settlement's replacements after its original in the
// order they were recorded.
func (l *Ledger) PendingTxs(ctx context.Context, chain uint64) ([]PendingTx, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT hash, channel_id, cumulative, amount, kind, nonce, raw, original, sent_block, note FROM pending_txs
		WHERE status = 'pending' AND chain_id = ? ORDER BY nonce, rowid`, int64(chain))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingTx
	for rows.Next() {
		p := PendingTx{ChainID: chain, Status: "pending"}
		var h, ch, orig string
		if err := rows.Scan(&h, &ch, &p.Cumulative, &p.Amount, &p.Kind, &p.Nonce, &p.Raw, &orig, &p.SentBlock, &p.Note); err != nil {
			return nil, err
		}
		p.Hash, p.ChannelID, p.Original = common.HexToHash(h), common.HexToHash(ch), common.HexToHash(orig)
		out = append(out, p)
	}
	return out, rows.Err()
}

// SettlementTxs lists the transactions of the settlement hash is one of
// (its first and its replacements), in the order recorded, with their
// status.
func (l *Ledger) SettlementTxs(ctx context.Context, hash common.Hash) ([]PendingTx, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT hash, chain_id, channel_id, cumulative, amount, kind, nonce, raw, original, sent_block, note, status
		FROM pending_txs WHERE original = (SELECT original FROM pending_txs WHERE hash = ?) ORDER BY rowid`, hash.Hex())
	if err != nil {
		return nil, fmt.Errorf("reading settlement %s: %w", hash.Hex(), err)
	}
	defer rows.Close()
	var out []PendingTx
	for rows.Next() {
		var p PendingTx
		var h, ch, orig string
		if err := rows.Scan(&h, &p.ChainID, &ch, &p.Cumulative, &p.Amount, &p.Kind, &p.Nonce, &p.Raw, &orig, &p.SentBlock, &p.Note, &p.Status); err != nil {
			return nil, fmt.Errorf("reading settlement %s: %w", hash.Hex(), err)
		}
		p.Hash, p.ChannelID, p.Original = common.HexToHash(h), common.HexToHash(ch), common.HexToHash(orig)
		out = append(out, p)
	}
	return out, rows.Err()
}

// ConfirmPendingTx records a pending transaction as mined and its
// settlement, in one transaction; the other transactions of the same
// settlement (its original, its replacements) are recorded replaced. A
// settlement the ledger holds already for the hash (dropped by a reorg
// and now mined again) is confirmed again at its new block.
func (l *Ledger) ConfirmPendingTx(ctx context.Context, s SettlementRecord) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE pending_txs SET status = 'mined', note = '' WHERE hash = ?`, s.TxHash.Hex()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pending_txs SET status = 'replaced', note = '' WHERE status = 'pending' AND hash != ?1
			AND original = (SELECT original FROM pending_txs WHERE hash = ?1)`, s.TxHash.Hex()); err != nil {
			return err
		}
		// A sibling's settlement a reorg dropped stays dropped: this one
		// took its nonce.
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

// FailPendingTx records that a pending settlement will not be mined (it
// reverted, or its nonce went to another transaction): hash and every
// other pending transaction of the same settlement.
func (l *Ledger) FailPendingTx(ctx context.Context, hash common.Hash) error {
	return l.tx(ctx, func(tx *sql.Tx) error { return failPending(ctx, tx, hash) })
}

// RevertPendingTx records a pending settlement whose transaction r was
// mined and reverted: failed, as FailPendingTx, and r with the gas it
// cost, in one transaction.
func (l *Ledger) RevertPendingTx(ctx context.Context, r ChainTxRecord) error {
	r.Reverted = true
	if err := r.validate(); err != nil {
		return err
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		if err := failPending(ctx, tx, r.Hash); err != nil {
			return err
		}
		return insertChainTx(ctx, tx, r)
	})
}

func failPending(ctx context.Context, tx *sql.Tx, hash common.Hash) error {
	_, err := tx.ExecContext(ctx, `UPDATE pending_txs SET status = 'failed', note = '' WHERE hash = ?1
		OR (status = 'pending' AND original = (SELECT original FROM pending_txs WHERE hash = ?1))`, hash.Hex())
	return err
}

// NotePendingTx sets why the settlement whose first transaction is
// original waits ("" clears it); it is shown with the pending amount.
func (l *Ledger) NotePendingTx(ctx context.Context, original common.Hash, note string) error {
	if len(note) > MaxPendingNote {
		note = note[:MaxPendingNote]
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE pending_txs SET note = ? WHERE original = ? AND status = 'pending'`, note, original.Hex())
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
