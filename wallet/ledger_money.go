package wallet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// ErrInsufficient reports a payout or withdrawal above what is available.
var ErrInsufficient = errors.New("insufficient settled funds")

// SettlementRecord is one settle or close, on-chain or in the ledger backend.
type SettlementRecord struct {
	ChannelID   common.Hash `json:"channel_id"`
	Cumulative  Amount      `json:"cumulative"`
	Amount      Amount      `json:"amount"` // paid by this settlement
	Kind        string      `json:"kind"`   // settle or close
	TxHash      common.Hash `json:"tx_hash,omitempty"`
	BlockHash   common.Hash `json:"block_hash,omitempty"`
	BlockNumber uint64      `json:"block_number,omitempty"`
	// GasUsed is what the settlement's transaction used (0: none, as in
	// the ledger backend).
	GasUsed uint64 `json:"gas_used,omitempty"`
	// GasPrice is what each unit of that gas cost, in wei (the receipt's
	// effective gas price; 0: not known). At most MaxGasPrice.
	GasPrice uint64 `json:"gas_price,omitempty"`
}

// MaxGasPrice bounds a recorded gas price (wei per unit of gas): the
// ledger stores it as a signed 64-bit integer. No chain has come near it
// (9.2 billion gwei).
const MaxGasPrice = 1<<63 - 1

// RecordSettlement stores a confirmed settlement.
func (l *Ledger) RecordSettlement(ctx context.Context, s SettlementRecord) error {
	return l.tx(ctx, func(tx *sql.Tx) error { return insertSettlement(ctx, tx, s) })
}

func insertSettlement(ctx context.Context, tx *sql.Tx, s SettlementRecord) error {
	if s.GasPrice > MaxGasPrice {
		return fmt.Errorf("recording settlement: gas_price %d: above %d wei per gas", s.GasPrice, uint64(MaxGasPrice))
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO settlements (channel_id, cumulative, amount, kind, tx_hash, block_hash, block_number, status, at, gas_used, gas_price)
		VALUES (?,?,?,?,?,?,?,'confirmed',?,?,?)`, s.ChannelID.Hex(), int64(s.Cumulative), int64(s.Amount), s.Kind,
		hashOrEmpty(s.TxHash), hashOrEmpty(s.BlockHash), s.BlockNumber, ledgerNow().Unix(), s.GasUsed, int64(s.GasPrice))
	if err != nil {
		return fmt.Errorf("recording settlement: %w", err)
	}
	return nil
}

func hashOrEmpty(h common.Hash) string {
	if h == (common.Hash{}) {
		return ""
	}
	return h.Hex()
}

// DropSettlement marks an on-chain settlement as no longer in the chain
// (a reorg dropped it): its amount counts as pending again, and its
// transaction, when the ledger holds it signed, is pending again so that
// the same transaction is sent again.
func (l *Ledger) DropSettlement(ctx context.Context, txHash common.Hash) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE settlements SET status = 'dropped' WHERE tx_hash = ?`, txHash.Hex()); err != nil {
			return err
		}
		// The transaction and those it replaced, or that replaced it:
		// whichever the chain mines now is recorded.
		_, err := tx.ExecContext(ctx, `UPDATE pending_txs SET status = 'pending' WHERE status IN ('mined','replaced')
			AND original = (SELECT original FROM pending_txs WHERE hash = ? AND status = 'mined')`, txHash.Hex())
		return err
	})
}

// OnChainSettlements lists confirmed settlements that carry a transaction,
// for a watcher to re-check against the chain.
func (l *Ledger) OnChainSettlements(ctx context.Context) ([]SettlementRecord, error) {
	return l.settlements(ctx, `SELECT channel_id, cumulative, amount, kind, tx_hash, block_hash, block_number
		FROM settlements WHERE status = 'confirmed' AND tx_hash != '' ORDER BY id`)
}

// UnfinalSettlements lists the confirmed settlements a reorg could still
// take back: mined at or above block from, on dom's channels that the
// ledger does not hold closed (a closed channel is done: what it held is
// settled or lost, and a chain that no longer has it, a development
// chain started afresh, must not be sent its old transactions again).
func (l *Ledger) UnfinalSettlements(ctx context.Context, dom Domain, from uint64) ([]SettlementRecord, error) {
	return l.settlements(ctx, `SELECT s.channel_id, s.cumulative, s.amount, s.kind, s.tx_hash, s.block_hash, s.block_number
		FROM settlements s JOIN channels c ON c.id = s.channel_id
		WHERE s.status = 'confirmed' AND s.tx_hash != '' AND s.block_number >= ?
		AND c.chain_id = ? AND c.contract = ? AND c.state != 'closed' ORDER BY s.id`,
		int64(from), int64(dom.ChainID), addrKey(dom.Contract))
}

func (l *Ledger) settlements(ctx context.Context, query string, args ...any) ([]SettlementRecord, error) {
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SettlementRecord
	for rows.Next() {
		var s SettlementRecord
		var ch, tx, bh string
		if err := rows.Scan(&ch, &s.Cumulative, &s.Amount, &s.Kind, &tx, &bh, &s.BlockNumber); err != nil {
			return nil, err
		}
		s.ChannelID, s.TxHash, s.BlockHash = common.HexToHash(ch), common.HexToHash(tx), common.HexToHash(bh)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Settled is the cumulative amount confirmed settled on a channel.
func (l *Ledger) Settled(ctx context.Context, id common.Hash) (Amount, error) {
	var a Amount
	err := l.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(cumulative),0) FROM settlements WHERE channel_id = ? AND status = 'confirmed'`, id.Hex()).Scan(&a)
	return a, err
}

// RecordPayout records money sent out of the wallet; it may not exceed
// what is settled and not yet paid out to me.
func (l *Ledger) RecordPayout(ctx context.Context, me common.Address, amount Amount, destination, reference string) error {
	return l.recordPayout(ctx, me, amount, destination, reference, ChainTx{})
}

// ChainTx is a transaction mined on a chain and what its gas cost.
type ChainTx struct {
	Hash     common.Hash
	GasUsed  uint64
	GasPrice uint64 // wei per unit of gas (the effective price); at most MaxGasPrice
}

// RecordChainPayout records a payout sent on a chain by transaction tx,
// with its gas; like RecordPayout, it may not exceed what is settled and
// not yet paid out.
func (l *Ledger) RecordChainPayout(ctx context.Context, me common.Address, amount Amount, destination string, tx ChainTx) error {
	if tx.Hash == (common.Hash{}) {
		return fmt.Errorf("payout: transaction hash: required for a payout on a chain")
	}
	if tx.GasPrice > MaxGasPrice {
		return fmt.Errorf("payout: gas price %d: above %d wei per gas", tx.GasPrice, uint64(MaxGasPrice))
	}
	return l.recordPayout(ctx, me, amount, destination, tx.Hash.Hex(), tx)
}

func (l *Ledger) recordPayout(ctx context.Context, me common.Address, amount Amount, destination, reference string, gas ChainTx) error {
	if amount <= 0 {
		return fmt.Errorf("payout: %w: must be positive", ErrAmount)
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
		if avail := b.Settled - b.PaidOut - held; amount > avail {
			return fmt.Errorf("payout of %s: %w: %s settled and not paid out (hint: settle pending vouchers first)", amount, ErrInsufficient, avail)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO payouts (amount, destination, reference, at, gas_used, gas_price) VALUES (?,?,?,?,?,?)`,
			int64(amount), destination, reference, ledgerNow().Unix(), gas.GasUsed, int64(gas.GasPrice))
		return err
	})
}

// Balance is the wallet's figures, all in token units.
type Balance struct {
	Address   common.Address
	Earned    Amount // best voucher per channel paying me
	Settled   Amount // of that, confirmed settled
	PaidOut   Amount // sent out of the wallet
	Pending   Amount // earned − settled − lost
	Lost      Amount // held beyond what was settled on channels now closed
	Spent     Amount // best voucher per channel I pay from
	Deposited Amount // total deposited into channels I pay from
	Refunded  Amount // returned to me from closed channels
}

// Balance computes the figures for me from the ledger.
func (l *Ledger) Balance(ctx context.Context, me common.Address) (Balance, error) {
	return balance(ctx, l.db, me)
}

func balance(ctx context.Context, q querier, me common.Address) (Balance, error) {
	b := Balance{Address: me}
	m := addrKey(me)
	err := q.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT SUM(best) FROM (SELECT MAX(v.cumulative) AS best FROM vouchers v JOIN channels c ON c.id = v.channel_id WHERE c.payee = ?1 GROUP BY v.channel_id)), 0),
		COALESCE((SELECT SUM(s) FROM (SELECT MAX(st.cumulative) AS s FROM settlements st JOIN channels c ON c.id = st.channel_id
			WHERE c.payee = ?1 AND st.status = 'confirmed' GROUP BY st.channel_id)), 0),
		COALESCE((SELECT SUM(amount) FROM payouts), 0),
		COALESCE((SELECT SUM(best) FROM (SELECT MAX(v.cumulative) AS best FROM vouchers v JOIN channels c ON c.id = v.channel_id WHERE c.payer = ?1 GROUP BY v.channel_id)), 0),
		COALESCE((SELECT SUM(d.amount) FROM deposits d JOIN channels c ON c.id = d.channel_id WHERE c.payer = ?1), 0),
		COALESCE((SELECT SUM(refunded) FROM channels WHERE payer = ?1), 0),
		COALESCE((SELECT SUM(MAX(0, best - COALESCE(s, 0))) FROM (SELECT c.id, MAX(v.cumulative) AS best,
			(SELECT MAX(st.cumulative) FROM settlements st WHERE st.channel_id = c.id AND st.status = 'confirmed') AS s
			FROM vouchers v JOIN channels c ON c.id = v.channel_id WHERE c.payee = ?1 AND c.state = 'closed' GROUP BY c.id)), 0)`, m).
		Scan(&b.Earned, &b.Settled, &b.PaidOut, &b.Spent, &b.Deposited, &b.Refunded, &b.Lost)
	if err != nil {
		return b, fmt.Errorf("computing balance: %w", err)
	}
	b.Pending = b.Earned - b.Settled - b.Lost
	if b.Pending < 0 { // settled by a voucher this ledger never saw
		b.Pending = 0
	}
	return b, nil
}

// Bucket groups history.
type Bucket string

// History buckets.
const (
	ByHour Bucket = "hour"
	ByDay  Bucket = "day"
	ByJob  Bucket = "job"
)

// HistoryRow is one point of a chart: money earned and spent in an hour,
// a day (UTC) or for a job.
type HistoryRow struct {
	Start  time.Time   `json:"start,omitzero"` // hour and day buckets
	Job    common.Hash `json:"job,omitzero"`   // job bucket: the job hash
	Earned Amount      `json:"earned"`
	Spent  Amount      `json:"spent"`
}

// History sums voucher increments for me since a time, oldest first.
func (l *Ledger) History(ctx context.Context, me common.Address, by Bucket, since time.Time) ([]HistoryRow, error) {
	var key string
	switch by {
	case ByHour:
		key = `(v.recorded_at / 3600) * 3600`
	case ByDay:
		key = `(v.recorded_at / 86400) * 86400`
	case ByJob:
		key = `COALESCE(a.job_hash, '')`
	default:
		return nil, fmt.Errorf("history bucket %q: want hour, day or job", by)
	}
	m := addrKey(me)
	rows, err := l.db.QueryContext(ctx, `SELECT `+key+` AS k,
		SUM(CASE WHEN c.payee = ?1 THEN v.delta ELSE 0 END), SUM(CASE WHEN c.payer = ?1 THEN v.delta ELSE 0 END), MIN(v.recorded_at)
		FROM vouchers v JOIN channels c ON c.id = v.channel_id LEFT JOIN agreements a ON a.id = v.agreement_id
		WHERE v.recorded_at >= ?2 AND (c.payee = ?1 OR c.payer = ?1) GROUP BY k ORDER BY MIN(v.recorded_at)`, m, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("reading history: %w", err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		var r HistoryRow
		var k any
		var first int64
		if err := rows.Scan(&k, &r.Earned, &r.Spent, &first); err != nil {
			return nil, err
		}
		switch v := k.(type) {
		case int64:
			r.Start = time.Unix(v, 0).UTC()
		case string:
			if v != "" {
				r.Job = common.HexToHash(v)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MoveSettlement records that a reorg re-mined a settlement in another block.
func (l *Ledger) MoveSettlement(ctx context.Context, txHash, blockHash common.Hash, number uint64) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE settlements SET block_hash = ?, block_number = ? WHERE tx_hash = ?`, blockHash.Hex(), number, txHash.Hex())
		return err
	})
}
