package evm

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

// SettlePolicy says when a provider's unsettled value on a channel is
// worth a settlement transaction. A settlement costs gas whatever it
// pays, so a provider does not settle per receipt: it settles when the
// value is worth the gas, when the payer asks to close, and at the
// latest before the payer may withdraw.
type SettlePolicy struct {
	// Threshold settles once a channel's unsettled value reaches it, in
	// token units; 0: DefaultSettleThreshold.
	Threshold wallet.Amount
	// GasFactor raises the threshold to GasFactor times a settlement's
	// estimated gas cost (in token units, when the network says what the
	// native coin is worth in its token); 0: DefaultGasFactor.
	GasFactor int64
	// Margin is how long before the payer may withdraw a provider settles
	// whatever it holds; 0: DefaultSettleMargin.
	Margin time.Duration
	// BumpAfter is how many blocks a settlement's transaction may sit
	// unmined before it is replaced with a higher fee; 0: DefaultBumpAfter.
	BumpAfter uint64
	// MaxFeePercent caps what a settlement may spend on gas, in percent of
	// what it settles (weighed with the network's TokenPerNative): its
	// fee cap times its gas limit never exceeds it, and above it the
	// settlement waits for fees to fall; 0 (or above 100): DefaultMaxFeePercent.
	MaxFeePercent int64
}

// Settle policy defaults.
const (
	DefaultSettleThreshold = wallet.Amount(1_000_000) // 1 token
	DefaultGasFactor       = 20
	DefaultSettleMargin    = 6 * time.Hour
	DefaultBumpAfter       = 3
	DefaultMaxFeePercent   = 10
	// MaxFeeGrowth bounds a settlement's fee when the network gives no
	// TokenPerNative (nothing to weigh gas against what it settles): a
	// replacement's fee cap is at most this many times the market's (twice
	// the base fee plus the node's suggested tip).
	MaxFeeGrowth = 4
)

func (p SettlePolicy) bumpAfter() uint64 {
	if p.BumpAfter > 0 {
		return p.BumpAfter
	}
	return DefaultBumpAfter
}

func (p SettlePolicy) maxFeePercent() int64 {
	if p.MaxFeePercent > 0 && p.MaxFeePercent <= 100 {
		return p.MaxFeePercent
	}
	return DefaultMaxFeePercent
}

func (p SettlePolicy) threshold() wallet.Amount {
	if p.Threshold > 0 {
		return p.Threshold
	}
	return DefaultSettleThreshold
}

// SettleState is what ShouldSettle decides on, for one channel.
type SettleState struct {
	Unsettled wallet.Amount // best voucher held − settled on-chain
	GasCost   wallet.Amount // a settlement's estimated cost in token units; 0: unknown
	Closing   bool          // the payer asked to close
	// WithdrawIn is how long until the payer may withdraw (meaningful
	// when Closing; zero or less: the payer may withdraw now).
	WithdrawIn time.Duration
}

// Never is the threshold when a settlement's gas is worth more than any
// amount a channel could hold: it then settles only on a close request.
const Never = wallet.Amount(1 << 62)

// Need is the unsettled value at which a channel settles while its payer
// has not asked to close, when a settlement's gas costs gasCost token
// units (0: unknown): the threshold, raised to GasFactor times the gas;
// Never when that is beyond any amount.
func (p SettlePolicy) Need(gasCost wallet.Amount) wallet.Amount {
	factor := p.Factor()
	need := p.threshold()
	if gasCost > 0 {
		if gasCost > Never/wallet.Amount(factor) {
			return Never
		}
		need = max(need, wallet.Amount(factor)*gasCost)
	}
	return need
}

// Factor is GasFactor, or DefaultGasFactor when unset.
func (p SettlePolicy) Factor() int64 {
	if p.GasFactor > 0 {
		return p.GasFactor
	}
	return DefaultGasFactor
}

// MarginOrDefault is how long before the payer may withdraw a provider
// settles whatever it holds.
func (p SettlePolicy) MarginOrDefault() time.Duration {
	if p.Margin > 0 {
		return p.Margin
	}
	return DefaultSettleMargin
}

// ShouldSettle decides whether to settle now, and says why.
func ShouldSettle(s SettleState, p SettlePolicy) (bool, string) {
	need := p.Need(s.GasCost)
	switch {
	case s.Unsettled <= 0:
		return false, "nothing unsettled"
	case s.Closing && s.WithdrawIn <= p.MarginOrDefault():
		return true, "the payer may withdraw soon"
	case s.Closing:
		return true, "the payer asked to close"
	case s.Unsettled >= need:
		return true, fmt.Sprintf("unsettled %s reached the threshold %s", s.Unsettled, need)
	}
	return false, fmt.Sprintf("unsettled %s below the threshold %s", s.Unsettled, need)
}

// SettleNeed is the unsettled value at which a channel settles now, at
// the node's gas price, and a settlement's gas in token units (0:
// unknown: the network gives no token_per_native, or the node no price).
func (b *Backend) SettleNeed(ctx context.Context) (need, gasCost wallet.Amount) {
	gasCost = b.gasCost(ctx)
	return b.Policy.Need(gasCost), gasCost
}

// settleState reads what ShouldSettle needs for channel ch, whose best
// voucher held is best.
func (b *Backend) settleState(ctx context.Context, ch OnChain, best wallet.Amount) SettleState {
	s := SettleState{Unsettled: best - ch.Settled, Closing: ch.CloseRequestedAt != 0}
	if s.Closing {
		s.WithdrawIn = time.Until(ch.WithdrawableAt())
		if h, err := b.client.HeaderByNumber(ctx, nil); err == nil {
			s.WithdrawIn = ch.WithdrawableAt().Sub(time.Unix(int64(h.Time), 0))
		}
	}
	s.GasCost = b.gasCost(ctx)
	return s
}

// gasCost estimates a settlement's cost in token units from the node's
// gas price and the network's TokenPerNative; 0 when either is unknown.
func (b *Backend) gasCost(ctx context.Context) wallet.Amount {
	if b.Network.TokenPerNative == 0 {
		return 0
	}
	price, err := b.client.SuggestGasPrice(ctx)
	if err != nil {
		return 0
	}
	wei := new(big.Int).Mul(price, big.NewInt(SettleGas))
	wei.Mul(wei, new(big.Int).SetUint64(b.Network.TokenPerNative))
	wei.Quo(wei, big.NewInt(1e18))
	if !wei.IsInt64() {
		return Never
	}
	return wallet.Amount(wei.Int64())
}

// SettleDue settles channel id's best voucher when ShouldSettle says so;
// it returns the amount paid (0: not due, or nothing to settle).
func (b *Backend) SettleDue(ctx context.Context, id common.Hash) (wallet.Amount, error) {
	if err := b.Resume(ctx); err != nil {
		return 0, err
	}
	v, err := b.ledger.BestVoucher(ctx, id)
	if err != nil {
		return 0, ignoreNotFound(err)
	}
	ch, err := b.Channel(ctx, id)
	if err != nil {
		return 0, err
	}
	if ch.Closed {
		return 0, b.markClosed(ctx, ch)
	}
	if ok, why := ShouldSettle(b.settleState(ctx, ch, v.Cumulative), b.Policy); !ok {
		b.log.Debug("not settling yet", "channel", id.Hex(), "why", why)
		return 0, nil
	}
	return b.SettleBest(ctx, id)
}
