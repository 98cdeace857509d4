package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

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

// Open lends a funded channel from signer (this wallet) to payee holding
// at least deposit beyond what is claimed, topping one up or opening one.
func (c *reusedChannels) Open(ctx context.Context, payee, signer common.Address, deposit wallet.Amount) (wallet.ChannelInfo, error) {
	chs, err := c.ledger.Channels(ctx, signer)
	if err != nil {
		return wallet.ChannelInfo{}, err
	}
	for i := len(chs) - 1; i >= 0; i-- { // the newest first
		ch := chs[i]
		if ch.Backend != evm.BackendName || ch.Payer != signer || ch.Payee != payee || ch.Signer != signer ||
			ch.Domain != c.b.Domain() || ch.Token != c.b.Network.Token || ch.State != "open" || !c.lend(ch.ID) {
			continue
		}
		info, err := c.reuse(ctx, ch.ID, deposit)
		if err == nil {
			return info, nil
		}
		c.Release(ch.ID)
		if !errors.Is(err, errNotReusable) {
			return wallet.ChannelInfo{}, err
		}
		c.log.Info("not reusing a channel", "channel", ch.ID.Hex(), "why", err)
	}
	info, err := c.b.Open(ctx, payee, signer, deposit)
	if err == nil {
		c.lend(info.ID)
	}
	return info, err
}

var errNotReusable = errors.New("channel not reusable")

// reuse reads channel id on-chain and tops it up when what is left above
// what is claimed is less than deposit.
func (c *reusedChannels) reuse(ctx context.Context, id common.Hash, deposit wallet.Amount) (wallet.ChannelInfo, error) {
	on, err := c.b.Channel(ctx, id)
	if err != nil {
		return wallet.ChannelInfo{}, fmt.Errorf("%w: %w", errNotReusable, err)
	}
	if on.Closed || on.CloseRequestedAt != 0 {
		return wallet.ChannelInfo{}, fmt.Errorf("%w: closing or closed", errNotReusable)
	}
	claimed := on.Settled
	if v, err := c.ledger.BestVoucher(ctx, id); err == nil && v.Cumulative > claimed {
		claimed = v.Cumulative
	} else if err != nil && !errors.Is(err, wallet.ErrNotFound) {
		return wallet.ChannelInfo{}, err
	}
	if free := on.Deposit - claimed; free < deposit {
		if err := c.b.TopUp(ctx, id, deposit-free); err != nil {
			return wallet.ChannelInfo{}, fmt.Errorf("topping up channel %s: %w", id.Hex(), err)
		}
		on.Deposit += deposit - free
		c.log.Info("topped up a channel for reuse", "channel", id.Hex(), "amount", (deposit - free).String())
	}
	return on.ChannelInfo, nil
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
