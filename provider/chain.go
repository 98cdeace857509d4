package provider

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// ChainTimeout bounds reading a channel on-chain before a job, and
// settling after it (a settlement waits for its confirmations).
const (
	ChainReadTimeout   = 30 * time.Second
	ChainSettleTimeout = 5 * time.Minute
)

// checkChannel reads the agreement's channel on-chain before any work:
// it must pay this provider, take vouchers from the requester, be open
// and not closing, and cover the quoted maximum cost beyond what is
// already claimed. Without a chain the session's check of the stated
// deposit is all there is (IOUs).
func (r *providerRun) checkChannel(ctx context.Context, ag *market.AgreementMsg) *market.Refusal {
	c := r.p.cfg.Chain
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ChainReadTimeout)
	defer cancel()
	if _, err := c.CheckFunding(ctx, common.Hash(ag.ChannelID), common.Address(ag.Requester), wallet.Amount(r.sess.Quote.MaxCost)); err != nil {
		return &market.Refusal{Code: market.RefuseBadAgreement, Message: err.Error()}
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
