package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// ActivityRow is one line of a wallet's history: a job's earnings (its
// vouchers paying me, summed) or a payout.
type ActivityRow struct {
	At  time.Time   // the job's latest voucher, or the payout
	Job common.Hash // set for a job
	// Agreement is the job's agreement (one run of the job), when known.
	Agreement common.Hash
	To        string // set for a payout
	Amount    Amount
}

// Activity lists me's latest jobs paid and payouts, newest first, at most
// limit rows.
func (l *Ledger) Activity(ctx context.Context, me common.Address, limit int) ([]ActivityRow, error) {
	if limit <= 0 {
		return nil, nil
	}
	// Within one second (the ledger's resolution) payouts come first.
	rows, err := l.db.QueryContext(ctx, `SELECT at, job, agreement, dest, amount FROM (
		SELECT MAX(v.recorded_at) AS at, COALESCE(a.job_hash, '') AS job, COALESCE(a.id, '') AS agreement, '' AS dest, SUM(v.delta) AS amount
			FROM vouchers v JOIN channels c ON c.id = v.channel_id LEFT JOIN agreements a ON a.id = v.agreement_id
			WHERE c.payee = ?1 GROUP BY v.agreement_id
		UNION ALL
		SELECT at, '', '', destination, amount FROM payouts
	) ORDER BY at DESC, dest <> '' DESC LIMIT ?2`, addrKey(me), limit)
	if err != nil {
		return nil, fmt.Errorf("reading wallet activity: %w", err)
	}
	defer rows.Close()
	var out []ActivityRow
	for rows.Next() {
		var r ActivityRow
		var at int64
		var job, agreement, dest string
		if err := rows.Scan(&at, &job, &agreement, &dest, &r.Amount); err != nil {
			return nil, fmt.Errorf("reading wallet activity: %w", err)
		}
		r.At, r.To = time.Unix(at, 0).UTC(), dest
		if job != "" {
			r.Job = common.HexToHash(job)
		}
		if agreement != "" {
			r.Agreement = common.HexToHash(agreement)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EarnedFor is what the vouchers recorded for one agreement added up to.
func (l *Ledger) EarnedFor(ctx context.Context, agreementID common.Hash) (Amount, error) {
	var a Amount
	err := l.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(delta), 0) FROM vouchers WHERE agreement_id = ?`, agreementID.Hex()).Scan(&a)
	if err != nil {
		return 0, fmt.Errorf("reading a job's earnings: %w", err)
	}
	return a, nil
}
