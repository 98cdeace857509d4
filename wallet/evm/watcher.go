package evm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

// Watcher is a provider's auto-settler. Each poll it finishes settlement
// transactions left pending (a crash, a reorg), reconciles recorded
// settlements against reorgs, and on every channel paying this wallet
// where it holds a voucher better than what is settled, settles when
// ShouldSettle says so: when the unsettled value is worth the gas, as
// soon as the payer asks to close, and so every voucher received during
// the grace period too, poll after poll, until the channel closes. A
// channel found closed is recorded closed: what was held beyond what was
// settled is then lost, not pending. It reads only the channels the
// ledger holds unsettled value on (one call each), never the chain's
// logs: public RPC providers refuse log queries over a whole chain.
type Watcher struct {
	Backend  *Backend
	Interval time.Duration // between polls; 0: DefaultWatchInterval
}

// DefaultWatchInterval is how often a Watcher looks for settlements due.
const DefaultWatchInterval = 15 * time.Second

// Serve polls until ctx ends.
func (w *Watcher) Serve(ctx context.Context) error {
	iv := w.Interval
	if iv <= 0 {
		iv = DefaultWatchInterval
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		if _, err := w.Poll(ctx); err != nil && ctx.Err() == nil {
			w.Backend.log.Warn("auto-settle poll failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll settles every channel paying this wallet whose settlement is due;
// it returns the channels settled.
func (w *Watcher) Poll(ctx context.Context) ([]common.Hash, error) {
	b := w.Backend
	if _, err := b.Reconcile(ctx); err != nil {
		return nil, err
	}
	if err := b.Resume(ctx); err != nil {
		return nil, err
	}
	ids, err := b.unsettled(ctx)
	if err != nil {
		return nil, err
	}
	var settled []common.Hash
	for _, id := range ids {
		amt, err := b.SettleDue(ctx, id)
		if errors.Is(err, wallet.ErrNotFound) {
			continue // recorded, but not on this chain (a reorg dropped the open)
		}
		if err != nil {
			return settled, fmt.Errorf("auto-settling %s: %w", id.Hex(), err)
		}
		if amt > 0 {
			b.log.Info("auto-settled", "channel", id.Hex(), "amount", amt.String())
			settled = append(settled, id)
		}
	}
	return settled, nil
}

// unsettled lists this domain's channels paying this wallet on which the
// ledger holds a voucher above what it records as settled.
func (b *Backend) unsettled(ctx context.Context) ([]common.Hash, error) {
	me := b.key.Address()
	chs, err := b.ledger.Channels(ctx, me)
	if err != nil {
		return nil, err
	}
	var out []common.Hash
	for _, ch := range chs {
		if ch.Backend != BackendName || ch.Payee != me || ch.Domain != b.domain || ch.State == "closed" {
			continue
		}
		v, err := b.ledger.BestVoucher(ctx, ch.ID)
		if errors.Is(err, wallet.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s, err := b.ledger.Settled(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		if v.Cumulative > s {
			out = append(out, ch.ID)
		}
	}
	return out, nil
}
