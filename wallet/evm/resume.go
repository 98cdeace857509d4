package evm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/sparegpu/spare/wallet"
)

// recordPending stores a signed settlement transaction in the ledger
// before it is sent.
func (b *Backend) recordPending(ctx context.Context, tx *types.Transaction, v *wallet.SignedVoucher, amount wallet.Amount, kind string) (wallet.PendingTx, error) {
	raw, err := tx.MarshalBinary()
	if err != nil {
		return wallet.PendingTx{}, err
	}
	p := wallet.PendingTx{Hash: tx.Hash(), ChainID: b.domain.ChainID, ChannelID: v.ChannelID, Cumulative: v.Cumulative,
		Amount: amount, Kind: kind, Nonce: tx.Nonce(), Raw: raw}
	return p, b.ledger.RecordPendingTx(ctx, p)
}

// finish waits for a sent settlement and records it mined (or failed).
func (b *Backend) finish(ctx context.Context, p wallet.PendingTx, tx *types.Transaction) error {
	rc, err := b.await(ctx, p.Kind, tx)
	if errors.Is(err, ErrReverted) {
		if ferr := b.ledger.FailPendingTx(ctx, p.Hash); ferr != nil {
			return ferr
		}
		return err
	}
	if err != nil {
		return err // still pending: Resume finishes it
	}
	return b.ledger.ConfirmPendingTx(ctx, wallet.SettlementRecord{
		ChannelID: p.ChannelID, Cumulative: p.Cumulative, Amount: p.Amount, Kind: p.Kind,
		TxHash: rc.TxHash, BlockHash: rc.BlockHash, BlockNumber: rc.BlockNumber.Uint64(), GasUsed: rc.GasUsed,
		GasPrice: gasPrice(rc),
	})
}

// Resume finishes every settlement transaction the ledger holds as
// pending on this chain, in nonce order: one already mined is recorded,
// one the node lacks is sent again as it was signed (same nonce, so it
// cannot be mined twice), one whose nonce another transaction took, or
// that a gap of unused nonces keeps from ever being mined, is recorded
// failed (its voucher is then settled anew). A provider runs it at start
// and before every settlement.
func (b *Backend) Resume(ctx context.Context) error {
	list, err := b.ledger.PendingTxs(ctx, b.domain.ChainID)
	if err != nil {
		return err
	}
	for _, p := range list {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(p.Raw); err != nil {
			return fmt.Errorf("pending transaction %s: %w", p.Hash.Hex(), err)
		}
		_, err := b.client.TransactionReceipt(ctx, p.Hash)
		switch {
		case errors.Is(err, ethereum.NotFound):
			next, nerr := b.client.PendingNonceAt(ctx, b.key.Address())
			if nerr != nil {
				return fmt.Errorf("resuming %s: reading the account's next nonce: %w", p.Hash.Hex(), nerr)
			}
			if p.Nonce > next {
				// Nothing the node holds, nor anything before it in the
				// ledger, fills the nonces below this one: it can never be
				// mined here. It was signed for another chain with the same
				// ID (a development chain started afresh), or what came
				// before it was lost with a node's pool.
				b.log.Warn("a pending settlement can never be mined on this chain (the nonces before it are unused); its voucher is settled anew",
					"tx", p.Hash.Hex(), "nonce", p.Nonce, "next", next)
				if err := b.ledger.FailPendingTx(ctx, p.Hash); err != nil {
					return err
				}
				continue
			}
			if err := b.broadcast(ctx, p.Kind, tx); err != nil {
				if !strings.Contains(err.Error(), "nonce too low") {
					return err
				}
				used, nerr := b.client.NonceAt(ctx, b.key.Address(), nil)
				if nerr != nil {
					return fmt.Errorf("resuming %s: reading the account's nonce: %w", p.Hash.Hex(), nerr)
				}
				if used <= p.Nonce {
					// The node's pool has not caught up with a reorg yet: try again next poll.
					return fmt.Errorf("resuming %s: the node refused its nonce %d, not yet used on chain: %w", p.Hash.Hex(), p.Nonce, err)
				}
				if _, err := b.client.TransactionReceipt(ctx, p.Hash); err != nil {
					b.log.Warn("a pending settlement's nonce went to another transaction; its voucher is settled anew", "tx", p.Hash.Hex())
					if err := b.ledger.FailPendingTx(ctx, p.Hash); err != nil {
						return err
					}
					continue
				}
			}
		case err != nil:
			return fmt.Errorf("resuming %s: %w", p.Hash.Hex(), err)
		}
		b.log.Info("resuming a settlement sent before a restart or a reorg", "tx", p.Hash.Hex(), "channel", p.ChannelID.Hex())
		if err := b.finish(ctx, p, tx); err != nil && !errors.Is(err, ErrReverted) {
			return err
		}
	}
	return nil
}

// markClosed records a channel the contract holds closed: what the
// ledger held beyond what was settled is lost, no longer pending.
func (b *Backend) markClosed(ctx context.Context, ch OnChain) error {
	if err := b.ledger.MarkClosed(ctx, ch.ID, ch.Deposit-ch.Settled); err != nil && !errors.Is(err, wallet.ErrNotFound) {
		return err
	}
	return nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, wallet.ErrNotFound) {
		return nil
	}
	return err
}

// gasPrice is what a mined transaction paid per unit of gas, in wei (0:
// the node did not say, or beyond what the ledger keeps).
func gasPrice(rc *types.Receipt) uint64 {
	if rc.EffectiveGasPrice == nil || !rc.EffectiveGasPrice.IsUint64() || rc.EffectiveGasPrice.Uint64() > wallet.MaxGasPrice {
		return 0
	}
	return rc.EffectiveGasPrice.Uint64()
}
