package wallet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"regexp"

	"github.com/ethereum/go-ethereum/common"
)

// ChainTxRecord is a transaction the wallet sent on a chain that is
// neither a mined settlement nor a payout (those carry their own gas): a
// requester's approve, open, topUp, requestClose or withdraw, a deploy,
// or any transaction that reverted. A reverted transaction did nothing
// but still cost its gas.
type ChainTxRecord struct {
	Hash        common.Hash
	ChainID     uint64
	Kind        string      // the call: approve, open, topUp, requestClose, withdraw, settle, …
	ChannelID   common.Hash // zero: none
	Amount      Amount      // the token amount it moves (a deposit, a top-up); 0: none
	BlockHash   common.Hash
	BlockNumber uint64
	GasUsed     uint64
	GasPrice    uint64 // wei per unit of gas (the effective price); at most MaxGasPrice
	Reverted    bool
	// Nonce, Raw (the signed transaction, binary encoded) and SentBlock
	// (the chain's head when it was recorded) are kept for a transaction
	// recorded before it was sent (RecordSendingChainTx).
	Nonce     uint64
	Raw       []byte
	SentBlock uint64
	// Status is pending (signed, not known mined), mined, failed (never
	// mined: its nonce went to another transaction) or dropped (a reorg
	// took it out of the chain and it was recorded without its signed
	// form); set when read back.
	Status string
}

var chainTxKind = regexp.MustCompile(`^[A-Za-z][A-Za-z ]{0,31}$`)

func (r ChainTxRecord) validate() error {
	switch {
	case r.Hash == (common.Hash{}):
		return fmt.Errorf("chain transaction: hash: must be set")
	case !chainTxKind.MatchString(r.Kind):
		return fmt.Errorf("chain transaction %s: kind %q: want 1 to 32 letters or spaces", r.Hash.Hex(), r.Kind)
	case r.Amount < 0:
		return fmt.Errorf("chain transaction %s: amount: %w: must not be negative", r.Hash.Hex(), ErrAmount)
	case r.GasPrice > MaxGasPrice:
		return fmt.Errorf("chain transaction %s: gas_price %d: above %d wei per gas", r.Hash.Hex(), r.GasPrice, uint64(MaxGasPrice))
	}
	return nil
}

// RecordChainTx stores a mined transaction and the gas it cost; the same
// hash recorded again (mined again after a reorg) takes the new block and
// gas.
func (l *Ledger) RecordChainTx(ctx context.Context, r ChainTxRecord) error {
	if err := r.validate(); err != nil {
		return err
	}
	return l.tx(ctx, func(tx *sql.Tx) error { return insertChainTx(ctx, tx, r) })
}

func insertChainTx(ctx context.Context, tx *sql.Tx, r ChainTxRecord) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO chain_txs (hash, chain_id, kind, channel_id, amount, block_hash, block_number, gas_used, gas_price, reverted, at, status)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,'mined')
		ON CONFLICT(hash) DO UPDATE SET block_hash = excluded.block_hash, block_number = excluded.block_number,
			gas_used = excluded.gas_used, gas_price = excluded.gas_price, reverted = excluded.reverted, status = 'mined'`,
		r.Hash.Hex(), int64(r.ChainID), r.Kind, hashOrEmpty(r.ChannelID), int64(r.Amount), hashOrEmpty(r.BlockHash), int64(r.BlockNumber),
		int64(r.GasUsed), int64(r.GasPrice), r.Reverted, ledgerNow().Unix())
	if err != nil {
		return fmt.Errorf("recording chain transaction %s: %w", r.Hash.Hex(), err)
	}
	return nil
}

// RecordSendingChainTx stores a signed transaction, pending, before it is
// sent: a restart sends the same transaction (same nonce) again or finds
// it mined (RecordChainTx), so it is neither lost nor sent twice.
func (l *Ledger) RecordSendingChainTx(ctx context.Context, r ChainTxRecord) error {
	if err := r.validate(); err != nil {
		return err
	}
	if len(r.Raw) == 0 || r.Nonce > math.MaxInt64 || r.SentBlock > math.MaxInt64 {
		return fmt.Errorf("chain transaction %s: raw must be set, nonce and sent_block below 2^63", r.Hash.Hex())
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO chain_txs (hash, chain_id, kind, channel_id, amount, gas_used, gas_price, at, status, nonce, raw, sent_block)
			VALUES (?,?,?,?,?,0,0,?,'pending',?,?,?)`,
			r.Hash.Hex(), int64(r.ChainID), r.Kind, hashOrEmpty(r.ChannelID), int64(r.Amount), ledgerNow().Unix(), int64(r.Nonce), r.Raw, int64(r.SentBlock))
		if err != nil {
			return fmt.Errorf("recording chain transaction %s before sending it: %w", r.Hash.Hex(), err)
		}
		return nil
	})
}

const chainTxColumns = `hash, chain_id, kind, channel_id, amount, block_hash, block_number, gas_used, gas_price, reverted, nonce, raw, sent_block, status`

func scanChainTxs(rows *sql.Rows) ([]ChainTxRecord, error) {
	defer rows.Close()
	var out []ChainTxRecord
	for rows.Next() {
		var r ChainTxRecord
		var h, ch, bh string
		if err := rows.Scan(&h, &r.ChainID, &r.Kind, &ch, &r.Amount, &bh, &r.BlockNumber, &r.GasUsed, &r.GasPrice, &r.Reverted,
			&r.Nonce, &r.Raw, &r.SentBlock, &r.Status); err != nil {
			return nil, fmt.Errorf("reading chain transactions: %w", err)
		}
		r.Hash, r.ChannelID, r.BlockHash = common.HexToHash(h), common.HexToHash(ch), common.HexToHash(bh)
		out = append(out, r)
	}
	return out, rows.Err()
}

// PendingChainTxs lists chain's transactions recorded before they were
// sent and not yet known mined, in nonce order.
func (l *Ledger) PendingChainTxs(ctx context.Context, chain uint64) ([]ChainTxRecord, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT `+chainTxColumns+` FROM chain_txs WHERE status = 'pending' AND chain_id = ? ORDER BY nonce, rowid`, int64(chain))
	if err != nil {
		return nil, fmt.Errorf("reading pending chain transactions: %w", err)
	}
	return scanChainTxs(rows)
}

// UnfinalChainTxs lists chain's transactions recorded mined at block from
// or later: a reorg may still take them out of the chain.
func (l *Ledger) UnfinalChainTxs(ctx context.Context, chain, from uint64) ([]ChainTxRecord, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT `+chainTxColumns+` FROM chain_txs WHERE status = 'mined' AND chain_id = ? AND block_number >= ?
		ORDER BY block_number, rowid`, int64(chain), int64(min(from, math.MaxInt64)))
	if err != nil {
		return nil, fmt.Errorf("reading recent chain transactions: %w", err)
	}
	return scanChainTxs(rows)
}

// FailChainTx records that a pending transaction will never be mined (its
// nonce went to another transaction): it cost nothing.
func (l *Ledger) FailChainTx(ctx context.Context, hash common.Hash) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE chain_txs SET status = 'failed' WHERE hash = ? AND status = 'pending'`, hash.Hex())
		return err
	})
}

// ReorgedChainTx records that a reorg took a mined transaction out of the
// chain: it is pending again, its block and gas cleared (it costs nothing
// until mined again), when its signed form is kept; dropped otherwise.
func (l *Ledger) ReorgedChainTx(ctx context.Context, hash common.Hash) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE chain_txs SET status = CASE WHEN length(raw) > 0 THEN 'pending' ELSE 'dropped' END,
			block_hash = '', block_number = 0, gas_used = 0, gas_price = 0, reverted = 0 WHERE hash = ? AND status = 'mined'`, hash.Hex())
		return err
	})
}

// payoutsSending is what payout transfers recorded and not yet mined (nor
// failed) hold back from what may be paid out.
func payoutsSending(ctx context.Context, tx *sql.Tx) (Amount, error) {
	var held Amount
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM chain_txs WHERE status = 'pending' AND destination != ''`).Scan(&held)
	if err != nil {
		return 0, fmt.Errorf("reading payouts being sent: %w", err)
	}
	return held, nil
}

// RecordSendingPayout is RecordSendingChainTx for a payout's transfer of
// amount to destination: like RecordPayout it may not exceed what is
// settled and neither paid out nor being paid out, and it holds amount
// back until it is mined (ConfirmPayoutChainTx) or fails.
func (l *Ledger) RecordSendingPayout(ctx context.Context, me common.Address, destination string, r ChainTxRecord) error {
	if err := r.validate(); err != nil {
		return err
	}
	if len(r.Raw) == 0 || r.Nonce > math.MaxInt64 || r.SentBlock > math.MaxInt64 || r.Amount <= 0 || destination == "" {
		return fmt.Errorf("payout transaction %s: raw, a positive amount and the destination must be set; nonce and sent_block below 2^63", r.Hash.Hex())
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		b, err := balance(ctx, tx, me)
		if err != nil {
			return err
		}
		held, err := payoutsSending(ctx, tx)
		if err != nil {
			return err
		}
		if avail := b.Settled - b.PaidOut - held; r.Amount > avail {
			return fmt.Errorf("payout of %s: %w: %s settled and not paid out (hint: settle pending vouchers first)", r.Amount, ErrInsufficient, avail)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO chain_txs (hash, chain_id, kind, channel_id, amount, gas_used, gas_price, at, status, nonce, raw, sent_block, destination)
			VALUES (?,?,?,'',?,0,0,?,'pending',?,?,?,?)`,
			r.Hash.Hex(), int64(r.ChainID), r.Kind, int64(r.Amount), ledgerNow().Unix(), int64(r.Nonce), r.Raw, int64(r.SentBlock), destination)
		if err != nil {
			return fmt.Errorf("recording payout transaction %s before sending it: %w", r.Hash.Hex(), err)
		}
		return nil
	})
}

// ConfirmPayoutChainTx records a payout's transfer r, recorded with
// RecordSendingPayout, mined: a payout of its amount to its destination
// with its gas, in one transaction with marking it so (status payout); a
// second call does nothing. It returns false when r is no pending payout.
func (l *Ledger) ConfirmPayoutChainTx(ctx context.Context, r ChainTxRecord) (bool, error) {
	if r.GasPrice > MaxGasPrice {
		return false, fmt.Errorf("payout: gas price %d: above %d wei per gas", r.GasPrice, uint64(MaxGasPrice))
	}
	found := false
	err := l.tx(ctx, func(tx *sql.Tx) error {
		var amount Amount
		var dest, status string
		err := tx.QueryRowContext(ctx, `SELECT amount, destination, status FROM chain_txs WHERE hash = ?`, r.Hash.Hex()).Scan(&amount, &dest, &status)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (dest == "" || (status != "pending" && status != "payout"))) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if status == "payout" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO payouts (amount, destination, reference, at, gas_used, gas_price) VALUES (?,?,?,?,?,?)`,
			int64(amount), dest, r.Hash.Hex(), ledgerNow().Unix(), r.GasUsed, int64(r.GasPrice)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chain_txs SET status = 'payout', block_hash = ?, block_number = ?, gas_used = ?, gas_price = ? WHERE hash = ?`,
			hashOrEmpty(r.BlockHash), int64(r.BlockNumber), int64(r.GasUsed), int64(r.GasPrice), r.Hash.Hex())
		return err
	})
	return found, err
}
