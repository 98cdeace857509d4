package evm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/sparegpu/spare/wallet"
)

// recordPending stores a signed settlement transaction in the ledger
// before it is sent, with the chain's head block (a replacement waits
// for blocks from there).
func (b *Backend) recordPending(ctx context.Context, tx *types.Transaction, v *wallet.SignedVoucher, amount wallet.Amount, kind string) (wallet.PendingTx, error) {
	raw, err := tx.MarshalBinary()
	if err != nil {
		return wallet.PendingTx{}, err
	}
	head, err := b.client.BlockNumber(ctx)
	if err != nil {
		return wallet.PendingTx{}, fmt.Errorf("%s: reading the chain head: %w", kind, err)
	}
	p := wallet.PendingTx{Hash: tx.Hash(), ChainID: b.domain.ChainID, ChannelID: v.ChannelID, Cumulative: v.Cumulative,
		Amount: amount, Kind: kind, Nonce: tx.Nonce(), Raw: raw, SentBlock: head}
	return p, b.ledger.RecordPendingTx(ctx, p)
}

// Resume finishes every settlement the ledger holds as pending on this
// chain, in nonce order: one of whose transactions (the first, or a
// replacement at a higher fee) is mined already is recorded; otherwise
// the latest is sent again as it was signed (same nonce, so only one can
// be mined) and waited for, replaced with a higher fee when it sits
// unmined (finish). One whose nonce another transaction took, or that a
// gap of unused nonces keeps from ever being mined, is recorded failed
// (its voucher is then settled anew). A provider runs it at start and
// before every settlement.
//
// The other transactions recorded before they were sent (approve, open,
// topUp, requestClose, withdraw: resumeCall) are finished with them, all
// in nonce order, so that none is taken for unminable behind a gap that
// one before it fills.
func (b *Backend) Resume(ctx context.Context) error {
	list, err := b.ledger.PendingTxs(ctx, b.domain.ChainID)
	if err != nil {
		return err
	}
	calls, err := b.ledger.PendingChainTxs(ctx, b.domain.ChainID)
	if err != nil {
		return err
	}
	type step struct {
		nonce uint64
		run   func() error
	}
	var steps []step
	for _, g := range settlements(list) {
		steps = append(steps, step{g[0].Nonce, func() error { return b.resume(ctx, g) }})
	}
	for _, r := range calls {
		steps = append(steps, step{r.Nonce, func() error { return b.resumeCall(ctx, r) }})
	}
	slices.SortStableFunc(steps, func(x, y step) int { return cmp.Compare(x.nonce, y.nonce) })
	for _, s := range steps {
		if err := s.run(); err != nil && !errors.Is(err, ErrReverted) && !errors.Is(err, errNonceTaken) {
			return err
		}
	}
	return nil
}

// settlements groups pending transactions by settlement (their
// original), each group in the order recorded, the groups in the order
// of their first.
func settlements(list []wallet.PendingTx) [][]wallet.PendingTx {
	var out [][]wallet.PendingTx
	at := map[common.Hash]int{}
	for _, p := range list {
		i, ok := at[p.Original]
		if !ok {
			i = len(out)
			at[p.Original] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], p)
	}
	return out
}

func (b *Backend) resume(ctx context.Context, g []wallet.PendingTx) error {
	rc, p, err := b.minedOf(ctx, g)
	if err != nil {
		return err
	}
	if rc != nil {
		return b.recordMined(ctx, p, rc)
	}
	latest := g[len(g)-1]
	next, err := b.client.PendingNonceAt(ctx, b.key.Address())
	if err != nil {
		return fmt.Errorf("resuming %s: reading the account's next nonce: %w", latest.Hash.Hex(), err)
	}
	if latest.Nonce > next {
		// Nothing the node holds, nor anything before it in the ledger,
		// fills the nonces below this one: it can never be mined here. It
		// was signed for another chain with the same ID (a development
		// chain started afresh), or what came before it was lost with a
		// node's pool.
		b.log.Warn("a pending settlement can never be mined on this chain (the nonces before it are unused); its voucher is settled anew",
			"tx", latest.Hash.Hex(), "nonce", latest.Nonce, "next", next)
		return b.ledger.FailPendingTx(ctx, latest.Hash)
	}
	tx, err := rawTx(latest)
	if err != nil {
		return err
	}
	if err := b.broadcast(ctx, latest.Kind, tx); err != nil {
		switch msg := err.Error(); {
		case strings.Contains(msg, "nonce too low"):
			used, nerr := b.client.NonceAt(ctx, b.key.Address(), nil)
			if nerr != nil {
				return fmt.Errorf("resuming %s: reading the account's nonce: %w", latest.Hash.Hex(), nerr)
			}
			if used <= latest.Nonce {
				// The node's pool has not caught up with a reorg yet: try again next poll.
				return fmt.Errorf("resuming %s: the node refused its nonce %d, not yet used on chain: %w", latest.Hash.Hex(), latest.Nonce, err)
			}
			// Used: finish finds which transaction took it.
		case strings.Contains(msg, "underpriced"):
			// The pool holds a transaction of this nonce at a higher fee
			// (or takes none this low): finish bumps it or says why it waits.
			b.log.Warn("the node refused a pending settlement's fee", "tx", latest.Hash.Hex(), "err", err)
		default:
			return err
		}
	}
	b.log.Info("resuming a settlement sent before a restart or a reorg", "tx", latest.Hash.Hex(), "channel", latest.ChannelID.Hex())
	return b.finish(ctx, g)
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
