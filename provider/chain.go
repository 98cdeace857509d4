package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// ChainTimeout bounds reading a channel on-chain before a job, and
// settling after it (a settlement waits for its confirmations).
const (
	ChainReadTimeout   = 30 * time.Second
	ChainSettleTimeout = 5 * time.Minute
)

// checkChannel reads the agreement's channel on-chain before any work:
// it must take vouchers from the agreement's requester (never from the
// zero address, which makes every voucher worthless), hold the network
// preset's token, pay this provider, be open and not closing, and cover
// the quoted maximum cost beyond what is already claimed. Each failure has
// its own refusal code. Without a chain the session's check of the stated
// deposit is all there is (IOUs).
func (r *providerRun) checkChannel(ctx context.Context, ag *market.AgreementMsg) *market.Refusal {
	c := r.p.cfg.Chain
	if c == nil {
		if ag.VoucherBase != 0 {
			return &market.Refusal{Code: market.RefuseBadAgreement, Message: "voucher_base must be 0 in the embedded ledger: an IOU channel pays one job"}
		}
		return nil
	}
	signer := common.Address(ag.Requester)
	if signer == (common.Address{}) {
		return &market.Refusal{Code: market.RefuseBadSigner, Message: "the agreement names the zero address as the requester: no voucher it signs could be settled"}
	}
	ctx, cancel := context.WithTimeout(ctx, ChainReadTimeout)
	defer cancel()
	id := common.Hash(ag.ChannelID)
	ch, err := c.Channel(ctx, id)
	switch {
	case errors.Is(err, wallet.ErrNotFound):
		return &market.Refusal{Code: market.RefuseUnfunded, Message: fmt.Sprintf("channel %s does not exist on chain %d: deposit first (spare wallet deposit)", id.Hex(), c.Domain().ChainID)}
	case err != nil:
		return &market.Refusal{Code: market.RefuseUnfunded, Message: "the provider could not read the channel: " + err.Error()}
	case ch.Signer == (common.Address{}):
		return &market.Refusal{Code: market.RefuseBadSigner, Message: fmt.Sprintf("channel %s takes vouchers from the zero address: none could be settled; open a channel whose signer is the requester %s", id.Hex(), signer.Hex())}
	case ch.Signer != signer:
		return &market.Refusal{Code: market.RefuseBadSigner, Message: fmt.Sprintf("channel %s takes vouchers from %s, not from the agreement's requester %s", id.Hex(), ch.Signer.Hex(), signer.Hex())}
	case r.p.cfg.Token != (common.Address{}) && ch.Token != r.p.cfg.Token:
		return &market.Refusal{Code: market.RefuseWrongToken, Message: fmt.Sprintf("channel %s holds token %s; this provider takes the network's %s only", id.Hex(), ch.Token.Hex(), r.p.cfg.Token.Hex())}
	}
	// The deposit must stay locked until the job's latest end, or its payer
	// could withdraw what the job earns while it runs (the escrow's
	// unlockAt; a StartsAt in the past counts from now).
	end := max(ag.StartsAt, uint64(time.Now().Unix())) + ag.MaxDurationSeconds
	if err := ch.CheckLock(time.Unix(int64(end), 0)); err != nil {
		return &market.Refusal{Code: market.RefuseShortLock, Message: err.Error()}
	}
	// A reused channel: its vouchers go on from the base the requester
	// names, which may not fall below what is settled or held here (a
	// voucher for less would be worthless), and what is left above it
	// must cover the job.
	base, maxCost := wallet.Amount(ag.VoucherBase), wallet.Amount(r.sess.Quote.MaxCost)
	held := ch.Settled
	if v, err := r.p.cfg.Wallet.Ledger.BestVoucher(ctx, id); err == nil && v.Cumulative > held {
		held = v.Cumulative
	}
	switch {
	case base < held:
		return &market.Refusal{Code: market.RefuseBadAgreement, Message: fmt.Sprintf("voucher_base %s is below the %s the channel's vouchers already claim", base, held)}
	case ch.Deposit-base < maxCost:
		return &market.Refusal{Code: market.RefuseUnfunded, Message: fmt.Sprintf("channel %s holds %s beyond the voucher base %s; the job may cost up to %s: top up", id.Hex(), ch.Deposit-base, base, maxCost)}
	}
	if _, err := c.CheckFunding(ctx, id, signer, maxCost); err != nil {
		code := market.RefuseUnfunded
		if !errors.Is(err, evm.ErrUnfunded) {
			code = market.RefuseBadAgreement
		}
		return &market.Refusal{Code: code, Message: err.Error()}
	}
	return nil
}

// settleOnChain settles the job's channel once the job has ended, when
// the settlement is due: a chain that weighs unsettled value against the
// gas (wallet/evm's SettleDue: a threshold, a close request, the grace
// period's end) settles only then, so many short jobs, or a long one, do
// not pay a settlement each; the watcher settles the rest. A failure is
// logged; the voucher stays in the ledger and is settled later.
func (r *providerRun) settleOnChain(ctx context.Context) {
	c := r.p.cfg.Chain
	if c == nil || r.sa.ChannelID == (common.Hash{}) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ChainSettleTimeout)
	defer cancel()
	settle := c.SettleBest
	if d, ok := c.(interface {
		SettleDue(context.Context, common.Hash) (wallet.Amount, error)
	}); ok {
		settle = d.SettleDue
	}
	amt, err := settle(ctx, r.sa.ChannelID)
	if err != nil {
		r.log.Warn("settling on chain failed; the voucher is kept and settled later", "channel", r.sa.ChannelID.Hex(), "err", err)
		return
	}
	if amt > 0 {
		r.log.Info("settled on chain", "channel", r.sa.ChannelID.Hex(), "amount", amt.String())
	}
}
