package evm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

// Watcher is a provider's auto-settler: when a payer asks to close a
// channel that pays this wallet, it settles the best voucher held in the
// ledger well before the grace period ends. It also reconciles recorded
// settlements against reorgs.
type Watcher struct {
	Backend  *Backend
	Interval time.Duration // between polls; 0 means 15 s
	next     uint64        // first block not yet scanned
}

// Serve polls until ctx ends.
func (w *Watcher) Serve(ctx context.Context) error {
	iv := w.Interval
	if iv <= 0 {
		iv = 15 * time.Second
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

// Poll scans new blocks for CloseRequested on channels paying this wallet
// and settles each; it returns the channels settled.
func (w *Watcher) Poll(ctx context.Context) ([]common.Hash, error) {
	b := w.Backend
	if _, err := b.Reconcile(ctx); err != nil {
		return nil, err
	}
	head, err := b.client.BlockNumber(ctx)
	if err != nil {
		return nil, err
	}
	if w.next > head {
		return nil, nil
	}
	it, err := b.escrow.FilterCloseRequested(&bind.FilterOpts{Start: w.next, End: &head, Context: ctx}, nil)
	if err != nil {
		return nil, fmt.Errorf("reading CloseRequested: %w", err)
	}
	defer it.Close()
	var settled []common.Hash
	for it.Next() {
		id := common.Hash(it.Event.Id)
		ch, err := b.ledger.Channel(ctx, id)
		if errors.Is(err, wallet.ErrNotFound) || (err == nil && ch.Payee != b.key.Address()) {
			continue // not ours
		}
		if err != nil {
			return settled, err
		}
		v, err := b.ledger.BestVoucher(ctx, id)
		if errors.Is(err, wallet.ErrNotFound) {
			continue
		}
		if err != nil {
			return settled, err
		}
		onchain, err := b.Settled(ctx, id)
		if err != nil {
			return settled, err
		}
		if v.Cumulative <= onchain {
			continue
		}
		if _, err := b.Settle(ctx, &v); err != nil {
			return settled, fmt.Errorf("auto-settling %s: %w", id.Hex(), err)
		}
		b.log.Info("auto-settled on close request", "channel", id.Hex(), "cumulative", v.Cumulative.String())
		settled = append(settled, id)
	}
	if err := it.Error(); err != nil {
		return settled, err
	}
	w.next = head + 1
	return settled, nil
}
