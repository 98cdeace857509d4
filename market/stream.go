package market

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/p2p/wire"
	"github.com/sparegpu/spare/wallet"
)

// Limits of a job stream, on both sides.
const (
	// MaxFrame is the largest frame read on /spare/job/1.0.0: one message.
	MaxFrame = MaxMessageSize
)

// WriteMessage validates m and writes it as one wire frame.
func WriteMessage(w io.Writer, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	p, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return wire.WriteFrame(w, MaxFrame, wire.Envelope{Type: uint64(m.Type()), Version: Version1, Payload: p})
}

// ReadMessage reads one frame and decodes it. A peer's error frame comes
// back as a *wire.RemoteError; malformed input wraps ErrBadMessage or a
// wire error.
func ReadMessage(r io.Reader) (Message, error) {
	e, err := wire.ReadFrame(r, MaxFrame)
	if err != nil {
		return nil, err
	}
	return DecodePayload(e.Type, e.Version, e.Payload)
}

// WalletAgreement is the wallet's EIP-712 agreement for m's terms.
func (m *AgreementMsg) WalletAgreement() (wallet.Agreement, error) {
	if m.Price.PerGPUSecond > math.MaxInt64 || m.Price.PerCPUSecond > math.MaxInt64 {
		return wallet.Agreement{}, fmt.Errorf("%w: price out of range", ErrBadMessage)
	}
	return wallet.Agreement{
		JobHash: common.Hash(m.JobHash), Requester: common.Address(m.Requester), Payee: common.Address(m.Payee),
		ChannelID: common.Hash(m.ChannelID), GPUs: uint64(m.GPUs), CPUMillis: uint64(m.CPUs),
		PricePerGPUSecond: wallet.Amount(m.Price.PerGPUSecond), PricePerCPUSecond: wallet.Amount(m.Price.PerCPUSecond),
		IntervalSeconds: uint64(m.IntervalSeconds), MaxDurationSeconds: m.MaxDurationSeconds, StartsAt: m.StartsAt,
	}, nil
}

// SignedAgreement is m with its signatures as the wallet keeps it.
func (m *AgreementMsg) SignedAgreement(d wallet.Domain) (wallet.SignedAgreement, error) {
	a, err := m.WalletAgreement()
	if err != nil {
		return wallet.SignedAgreement{}, err
	}
	return wallet.SignedAgreement{Agreement: a, Domain: d, RequesterSig: m.RequesterSig, PayeeSig: m.ProviderSig}, nil
}

// WalletReceipt is r as the wallet signs and checks it.
func (r *Receipt) WalletReceipt(agreementID common.Hash) wallet.SignedReceipt {
	return wallet.SignedReceipt{UsageReceipt: wallet.UsageReceipt{
		AgreementID: agreementID, Seq: r.Seq, Start: r.Start, End: r.End, GPUms: r.GPUms, CPUms: r.CPUms,
		Cumulative: wallet.Amount(r.Cumulative), PrevHash: common.Hash(r.PrevHash), Final: r.Final,
	}, Sig: r.Sig}
}

// WalletVoucher is v as the wallet signs and checks it.
func (v *Voucher) WalletVoucher(d wallet.Domain) wallet.SignedVoucher {
	return wallet.SignedVoucher{Domain: d, Voucher: wallet.Voucher{ChannelID: common.Hash(v.ChannelID),
		Cumulative: wallet.Amount(v.Cumulative)}, Sig: v.Sig}
}

// WalletCredit adapts the wallet's credit rule to the provider session.
type WalletCredit struct {
	Intervals int           // unpaid intervals allowed; 0: wallet.DefaultUnpaidIntervals
	Timeout   time.Duration // paused this long unpaid, the job ends; 0: wallet.DefaultPauseTimeout
}

var _ CreditLimit = WalletCredit{}

// Check applies wallet.Credit.Decide.
func (w WalletCredit) Check(c CreditState, now time.Time) (CreditAction, string) {
	if c.Billed > math.MaxInt64 || c.Paid > math.MaxInt64 || c.PerInterval > math.MaxInt64 {
		return CreditEnd, "amount out of range"
	}
	d := wallet.Credit{Billed: wallet.Amount(c.Billed), Paid: wallet.Amount(c.Paid), PerInterval: wallet.Amount(c.PerInterval),
		Intervals: w.Intervals, OverSince: c.OverSince, Timeout: w.Timeout}.Decide(now)
	switch d.Action {
	case wallet.Pause:
		return CreditPause, d.Reason
	case wallet.End:
		return CreditEnd, d.Reason
	}
	return CreditContinue, d.Reason
}
