package wallet

import (
	"context"
	"fmt"
	"math/big"
)

// Gas is what the wallet's transactions on a chain cost in gas: those
// the ledger records as confirmed settlements (a settlement a reorg
// dropped costs nothing until it is mined again), payouts sent on a
// chain, and every other transaction it sent and saw mined (a
// requester's approve, open, topUp, requestClose and withdraw; a deploy;
// any transaction that reverted, which cost gas and did nothing).
type Gas struct {
	Txs  int      // transactions counted
	Used uint64   // gas units they used
	Wei  *big.Int // what that gas cost in the chain's native unit (wei); never nil
	// Unpriced counts transactions whose gas price is not known (recorded
	// before prices were kept): their gas is in Used but not in Wei.
	Unpriced int
}

// GasSpent sums the gas of the wallet's recorded transactions.
func (l *Ledger) GasSpent(ctx context.Context) (Gas, error) {
	g := Gas{Wei: new(big.Int)}
	rows, err := l.db.QueryContext(ctx, `SELECT gas_used, gas_price FROM settlements WHERE status = 'confirmed' AND tx_hash != ''
		UNION ALL SELECT gas_used, gas_price FROM payouts WHERE reference LIKE '0x%' AND length(reference) = 66
		UNION ALL SELECT gas_used, gas_price FROM chain_txs WHERE status = 'mined'`)
	if err != nil {
		return g, fmt.Errorf("reading gas spent: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var used, price int64
		if err := rows.Scan(&used, &price); err != nil {
			return g, fmt.Errorf("reading gas spent: %w", err)
		}
		g.Txs++
		g.Used += uint64(used)
		if price == 0 && used > 0 {
			g.Unpriced++
		}
		g.Wei.Add(g.Wei, GasWei(uint64(used), uint64(price)))
	}
	return g, rows.Err()
}

// GasWei is gas units used at a price (wei per unit) in wei.
func GasWei(used, price uint64) *big.Int {
	return new(big.Int).Mul(new(big.Int).SetUint64(used), new(big.Int).SetUint64(price))
}

// WeiInToken converts wei to the token's smallest unit at tokenPerNative
// token units per native coin (1e18 wei), rounding up (a cost is never
// shown smaller than it was); false when the rate is not known (0).
func WeiInToken(wei *big.Int, tokenPerNative uint64) (Amount, bool) {
	if tokenPerNative == 0 || wei == nil {
		return 0, false
	}
	v := new(big.Int).Mul(wei, new(big.Int).SetUint64(tokenPerNative))
	v.Add(v, big.NewInt(1e18-1))
	v.Quo(v, big.NewInt(1e18))
	if !v.IsInt64() {
		return Amount(1<<63 - 1), true
	}
	return Amount(v.Int64()), true
}
