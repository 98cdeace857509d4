package evm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

// ErrUnfunded reports a channel a provider must not work for: it does not
// pay this wallet, is not signed by the requester, is in another token,
// holds too little, or is closing.
var ErrUnfunded = errors.New("the channel cannot pay for this job")

// CheckFunding reads channel id on-chain before a provider works for it:
// it must pay this wallet, in the network's token, with vouchers signed by
// signer (the requester who signed the agreement), be neither closing nor
// closed, and hold at least maxCost beyond what is settled and what the
// best voucher this ledger already holds claims. The channel is recorded
// in the ledger (backend "evm") on success.
func (b *Backend) CheckFunding(ctx context.Context, id common.Hash, signer common.Address, maxCost wallet.Amount) (wallet.ChannelInfo, error) {
	ch, err := b.Channel(ctx, id)
	if errors.Is(err, wallet.ErrNotFound) {
		return wallet.ChannelInfo{}, fmt.Errorf("%w: channel %s does not exist on chain %d (was the deposit made?)", ErrUnfunded, id.Hex(), b.domain.ChainID)
	}
	if err != nil {
		return wallet.ChannelInfo{}, err
	}
	claimed := ch.Settled
	if v, err := b.ledger.BestVoucher(ctx, id); err == nil && v.Cumulative > claimed {
		claimed = v.Cumulative
	}
	free := ch.Deposit - claimed
	switch {
	case ch.Closed:
		return wallet.ChannelInfo{}, fmt.Errorf("%w: channel %s is closed", ErrUnfunded, id.Hex())
	case ch.CloseRequestedAt != 0:
		return wallet.ChannelInfo{}, fmt.Errorf("%w: channel %s is closing (its payer asked to close)", ErrUnfunded, id.Hex())
	case ch.Payee != b.key.Address():
		return wallet.ChannelInfo{}, fmt.Errorf("%w: channel %s pays %s, not this provider", ErrUnfunded, id.Hex(), ch.Payee.Hex())
	case signer == (common.Address{}) || ch.Signer != signer:
		return wallet.ChannelInfo{}, fmt.Errorf("%w: channel %s takes vouchers from %s, not from the requester %s", ErrUnfunded, id.Hex(), ch.Signer.Hex(), signer.Hex())
	case ch.Token != b.tokenAddress:
		return wallet.ChannelInfo{}, fmt.Errorf("%w: channel %s is in token %s, not the network's %s", ErrUnfunded, id.Hex(), ch.Token.Hex(), b.tokenAddress.Hex())
	case free < maxCost:
		return wallet.ChannelInfo{}, fmt.Errorf("%w: channel %s holds %s beyond what is claimed, the job may cost up to %s", ErrUnfunded, id.Hex(), free, maxCost)
	}
	if err := b.ledger.AddChannel(ctx, BackendName, ch.ChannelInfo); err != nil {
		return wallet.ChannelInfo{}, err
	}
	if err := b.ledger.SyncDeposit(ctx, id, ch.Deposit); err != nil {
		return wallet.ChannelInfo{}, err
	}
	return ch.ChannelInfo, nil
}

// SettleBest settles the best voucher the ledger holds for channel id when
// it is above what the contract has settled, whatever ShouldSettle says;
// it returns the amount paid (0 when there was nothing to settle). It
// first finishes settlements left pending, so calling it again after a
// crash is safe: a voucher already settled is not sent again.
func (b *Backend) SettleBest(ctx context.Context, id common.Hash) (wallet.Amount, error) {
	if err := b.Resume(ctx); err != nil {
		return 0, err
	}
	v, err := b.ledger.BestVoucher(ctx, id)
	if errors.Is(err, wallet.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	onchain, err := b.Settled(ctx, id)
	if err != nil {
		return 0, err
	}
	if v.Cumulative <= onchain {
		return 0, nil
	}
	return b.Settle(ctx, &v)
}

// SettleAll finishes settlements left pending and settles every evm
// channel paying this wallet whose settlement is due (SettleDue): a
// provider runs it at start, so a settlement a crash interrupted is
// finished exactly once.
func (b *Backend) SettleAll(ctx context.Context) (wallet.Amount, error) {
	if err := b.Resume(ctx); err != nil {
		return 0, err
	}
	ids, err := b.unsettled(ctx)
	if err != nil {
		return 0, err
	}
	var total wallet.Amount
	for _, id := range ids {
		amt, err := b.SettleDue(ctx, id)
		if err != nil && !errors.Is(err, wallet.ErrNotFound) {
			return total, fmt.Errorf("settling %s: %w", id.Hex(), err)
		}
		total += amt
	}
	return total, nil
}

// CheckLock refuses a channel whose payer could take the deposit back
// before the payee has had the grace period after the job's latest end
// (until: the agreement's start plus its maximum duration): the deposit
// must be locked at least until then, so that a close request mid-job
// cannot cut the payee's time to settle.
func (b *Backend) CheckLock(ctx context.Context, id common.Hash, until time.Time) error {
	ch, err := b.Channel(ctx, id)
	if err != nil {
		return err
	}
	return ch.CheckLock(until)
}

// CheckLock is Backend.CheckLock on a channel already read.
func (c OnChain) CheckLock(until time.Time) error {
	if int64(c.UnlockAt) < until.Unix() {
		return fmt.Errorf("%w: channel %s is locked until %s, before the job's latest end %s: the requester must open the channel for the job's maximum duration (spare submit does)",
			ErrUnfunded, c.ID.Hex(), time.Unix(int64(c.UnlockAt), 0).UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	}
	return nil
}
