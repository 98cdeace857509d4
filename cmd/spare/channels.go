package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// reusedChannels opens a requester's payment channels on a chain, reusing
// a funded one with the same provider instead of opening one per job
// (two transactions and their gas each): a channel this wallet's ledger
// holds to that payee, open on-chain with no close requested, in the
// network's token; topped up when what is left above what is claimed
// (settled, or the best voucher signed) does not cover the job. A channel
// lent to a running job is not lent again until it is released.
type reusedChannels struct {
	b      *evm.Backend
	ledger *wallet.Ledger
	log    *slog.Logger

	mu   sync.Mutex
	lent map[common.Hash]bool
}

var _ market.ChannelLender = (*reusedChannels)(nil)

func newReusedChannels(b *evm.Backend, l *wallet.Ledger, log *slog.Logger) *reusedChannels {
	return &reusedChannels{b: b, ledger: l, log: log, lent: map[common.Hash]bool{}}
}

// Open lends a channel from signer (this wallet) to payee holding at
// least deposit beyond what is claimed (market.ChannelOpener).
func (c *reusedChannels) Open(ctx context.Context, payee, signer common.Address, deposit wallet.Amount) (wallet.ChannelInfo, error) {
	ch, _, err := c.Lend(ctx, payee, signer, deposit, deposit, c.b.Lock)
	return ch, err
}

// Lend lends a channel from signer (this wallet) to payee holding at least
// need beyond what is claimed: the newest such one as it is, else one
// topped up to hold deposit, else a new one holding deposit
// (market.ChannelLender). Its deposit stays locked for lock from now:
// a reused channel's lock is extended when it would end sooner. free is
// what it holds beyond the claims.
func (c *reusedChannels) Lend(ctx context.Context, payee, signer common.Address, need, deposit wallet.Amount, lock time.Duration) (wallet.ChannelInfo, wallet.Amount, error) {
	deposit = max(deposit, need)
	// An open or top-up a kill interrupted is finished first: its channel
	// is then in the ledger to reuse, not opened twice.
	if err := c.b.Resume(ctx); err != nil {
		return wallet.ChannelInfo{}, 0, err
	}
	chs, err := c.ledger.Channels(ctx, signer)
	if err != nil {
		return wallet.ChannelInfo{}, 0, err
	}
	for i := len(chs) - 1; i >= 0; i-- { // the newest first
		ch := chs[i]
		if ch.Backend != evm.BackendName || ch.Payer != signer || ch.Payee != payee || ch.Signer != signer ||
			ch.Domain != c.b.Domain() || ch.Token != c.b.Network.Token || ch.State != "open" || !c.lend(ch.ID) {
			continue
		}
		info, free, err := c.reuse(ctx, ch.ID, need, deposit, lock)
		if err == nil {
			return info, free, nil
		}
		c.Release(ch.ID)
		if !errors.Is(err, errNotReusable) {
			return wallet.ChannelInfo{}, 0, err
		}
		c.log.Info("not reusing a channel", "channel", ch.ID.Hex(), "why", err)
	}
	info, err := c.b.OpenFor(ctx, payee, signer, deposit, lock)
	if err != nil {
		return wallet.ChannelInfo{}, 0, err
	}
	c.lend(info.ID)
	return info, deposit, nil
}

var errNotReusable = errors.New("channel not reusable")

// reuse reads channel id on-chain and, when what is left above what is
// claimed is less than need, tops it up to hold deposit; when its lock
// ends before lock from now (less the slack a fresh lock has), it extends
// the lock, in the same transaction as a top-up.
func (c *reusedChannels) reuse(ctx context.Context, id common.Hash, need, deposit wallet.Amount, lock time.Duration) (wallet.ChannelInfo, wallet.Amount, error) {
	on, err := c.b.Channel(ctx, id)
	if err != nil {
		return wallet.ChannelInfo{}, 0, fmt.Errorf("%w: %w", errNotReusable, err)
	}
	if on.Closed || on.CloseRequestedAt != 0 {
		return wallet.ChannelInfo{}, 0, fmt.Errorf("%w: closing or closed", errNotReusable)
	}
	claimed := on.Settled
	if v, err := c.ledger.BestVoucher(ctx, id); err == nil && v.Cumulative > claimed {
		claimed = v.Cumulative
	} else if err != nil && !errors.Is(err, wallet.ErrNotFound) {
		return wallet.ChannelInfo{}, 0, err
	}
	free, add := on.Deposit-claimed, wallet.Amount(0)
	if free < need {
		add = deposit - free
	}
	extend := lock > 0 && time.Unix(int64(on.UnlockAt), 0).Before(time.Now().Add(lock-market.LockSlack/2))
	if add > 0 || extend {
		if err := c.b.TopUpFor(ctx, id, add, lock); err != nil {
			return wallet.ChannelInfo{}, 0, fmt.Errorf("topping up channel %s: %w", id.Hex(), err)
		}
		on.Deposit += add
		free += add
		c.log.Info("topped up a channel for reuse", "channel", id.Hex(), "amount", add.String(), "locked_for", lock)
	}
	return on.ChannelInfo, free, nil
}

func (c *reusedChannels) lend(id common.Hash) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lent[id] {
		return false
	}
	c.lent[id] = true
	return true
}

// Release ends a job's use of channel id (market.ChannelLender).
func (c *reusedChannels) Release(id common.Hash) {
	c.mu.Lock()
	delete(c.lent, id)
	c.mu.Unlock()
}
