package wallet

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// Counts are the ledger's signed records and settlement transactions as
// seen by me, for metrics. Rows are never deleted, so each only grows.
type Counts struct {
	ReceiptsSigned   int64 // receipts of agreements I am the payee of (I signed them)
	ReceiptsReceived int64 // receipts of agreements I pay for
	VouchersReceived int64 // vouchers on channels paying me
	VouchersSigned   int64 // vouchers on channels I pay from
	Agreements       int64
	SettlementTxs    int64  // settlements sent as transactions, dropped ones too
	SettlementGas    uint64 // gas those transactions used
}

// Counts counts the records in the ledger for me. It reads every row of
// receipts and vouchers: fine at a scrape's pace (a few ms per ten
// thousand rows).
func (l *Ledger) Counts(ctx context.Context, me common.Address) (Counts, error) {
	var c Counts
	err := l.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM receipts r JOIN agreements a ON a.id = r.agreement_id JOIN channels c ON c.id = a.channel_id WHERE c.payee = ?1),
		(SELECT COUNT(*) FROM receipts r JOIN agreements a ON a.id = r.agreement_id JOIN channels c ON c.id = a.channel_id WHERE c.payer = ?1),
		(SELECT COUNT(*) FROM vouchers v JOIN channels c ON c.id = v.channel_id WHERE c.payee = ?1),
		(SELECT COUNT(*) FROM vouchers v JOIN channels c ON c.id = v.channel_id WHERE c.payer = ?1),
		(SELECT COUNT(*) FROM agreements),
		(SELECT COUNT(*) FROM settlements WHERE tx_hash != ''),
		(SELECT COALESCE(SUM(gas_used), 0) FROM settlements WHERE tx_hash != '')`, addrKey(me)).
		Scan(&c.ReceiptsSigned, &c.ReceiptsReceived, &c.VouchersReceived, &c.VouchersSigned, &c.Agreements, &c.SettlementTxs, &c.SettlementGas)
	if err != nil {
		return c, fmt.Errorf("counting ledger records: %w", err)
	}
	return c, nil
}
