package wallet

import (
	"context"
	"database/sql"
	"fmt"
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
	_, err := tx.ExecContext(ctx, `INSERT INTO chain_txs (hash, chain_id, kind, channel_id, amount, block_hash, block_number, gas_used, gas_price, reverted, at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(hash) DO UPDATE SET block_hash = excluded.block_hash, block_number = excluded.block_number,
			gas_used = excluded.gas_used, gas_price = excluded.gas_price, reverted = excluded.reverted`,
		r.Hash.Hex(), int64(r.ChainID), r.Kind, hashOrEmpty(r.ChannelID), int64(r.Amount), hashOrEmpty(r.BlockHash), int64(r.BlockNumber),
		int64(r.GasUsed), int64(r.GasPrice), r.Reverted, ledgerNow().Unix())
	if err != nil {
		return fmt.Errorf("recording chain transaction %s: %w", r.Hash.Hex(), err)
	}
	return nil
}
