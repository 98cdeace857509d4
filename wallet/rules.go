package wallet

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Rule violations. Each message that breaks a rule is refused with an
// error wrapping one of these, so callers can tell kinds apart with errors.Is.
var (
	ErrReplay           = errors.New("message already seen (replay dropped)")
	ErrSeq              = errors.New("receipt seq out of order")
	ErrChain            = errors.New("receipt does not chain to the previous one")
	ErrInterval         = errors.New("receipt interval is invalid")
	ErrCounters         = errors.New("receipt counters exceed wall-clock time × granted resources")
	ErrNotIncreasing    = errors.New("cumulative amount does not increase")
	ErrPrice            = errors.New("cumulative amount does not match the agreement's prices")
	ErrAfterFinal       = errors.New("message after the final receipt")
	ErrConflictingFinal = errors.New("a second, different final receipt (fraud evidence recorded)")
	ErrWrongAgreement   = errors.New("receipt is for another agreement")
	ErrWrongChannel     = errors.New("voucher is for another channel")
	ErrWrongChain       = errors.New("message is for another chain")
	ErrWrongContract    = errors.New("message is for another contract")
	ErrAboveDeposit     = errors.New("voucher exceeds the channel's deposit")
	ErrAgreement        = errors.New("agreement is invalid")
)

// MaxClockSkew is how far in the future a receipt's interval may end
// compared with the verifier's clock.
const MaxClockSkew = 5 * time.Second

// ChannelInfo is what a verifier knows of a payment channel.
type ChannelInfo struct {
	ID      common.Hash    `json:"id"`
	Domain  Domain         `json:"domain"`
	Payer   common.Address `json:"payer"`
	Payee   common.Address `json:"payee"`
	Signer  common.Address `json:"signer"` // signs vouchers; often the payer
	Token   common.Address `json:"token"`
	Deposit Amount         `json:"deposit"`
}

// CheckAgreement verifies both signatures and that the agreement fits
// the channel it names.
func CheckAgreement(sa *SignedAgreement, ch ChannelInfo) error {
	a := &sa.Agreement
	switch {
	case sa.Domain != ch.Domain:
		return fmt.Errorf("%w: domain %+v, channel's is %+v", ErrWrongChain, sa.Domain, ch.Domain)
	case a.ChannelID != ch.ID:
		return fmt.Errorf("%w: channel_id %s, want %s", ErrWrongChannel, a.ChannelID.Hex(), ch.ID.Hex())
	case a.Payee != ch.Payee:
		return fmt.Errorf("%w: payee %s, channel pays %s", ErrAgreement, a.Payee.Hex(), ch.Payee.Hex())
	case a.Requester != ch.Payer:
		return fmt.Errorf("%w: requester %s, channel is funded by %s", ErrAgreement, a.Requester.Hex(), ch.Payer.Hex())
	case a.PricePerGPUSecond < 0 || a.PricePerCPUSecond < 0:
		return fmt.Errorf("%w: negative price", ErrAgreement)
	case a.IntervalSeconds == 0:
		return fmt.Errorf("%w: interval_seconds must be > 0", ErrAgreement)
	case a.MaxDurationSeconds == 0:
		return fmt.Errorf("%w: max_duration_seconds must be > 0", ErrAgreement)
	case a.GPUs == 0 && a.CPUMillis == 0:
		return fmt.Errorf("%w: no resources granted (gpus and cpu_millis both 0)", ErrAgreement)
	}
	id := a.ID(sa.Domain)
	if err := verifySig(id, sa.RequesterSig, ch.Signer, "requester"); err != nil {
		if err2 := verifySig(id, sa.RequesterSig, a.Requester, "requester"); err2 != nil {
			return err
		}
	}
	return verifySig(id, sa.PayeeSig, a.Payee, "payee")
}

// ReceiptState is what a requester remembers of an agreement's receipts.
// The zero value is the state before the first receipt.
type ReceiptState struct {
	LastSeq    uint64      `json:"last_seq"`
	LastHash   common.Hash `json:"last_hash"`
	LastEnd    uint64      `json:"last_end"`
	Cumulative Amount      `json:"cumulative"`
	GPUms      uint64      `json:"gpu_ms"` // cumulative counters
	CPUms      uint64      `json:"cpu_ms"`
	Final      bool        `json:"final"`
}

// CheckReceipt applies every receipt rule: signature by the payee, same
// agreement, seq = last+1 chaining to the previous digest, a sane
// interval inside the agreement, counters within wall-clock × granted
// resources, cumulative strictly increasing and equal to the agreement's
// price of the cumulative counters, nothing after the final receipt. It
// returns the state after r. A second, different final receipt yields
// ErrConflictingFinal: the caller keeps both as evidence.
func CheckReceipt(sa *SignedAgreement, st ReceiptState, r *SignedReceipt, now time.Time) (ReceiptState, error) {
	a := &sa.Agreement
	if r.AgreementID != a.ID(sa.Domain) {
		return st, fmt.Errorf("%w: agreement_id %s", ErrWrongAgreement, r.AgreementID.Hex())
	}
	d := r.Digest(sa.Domain)
	if err := verifySig(d, r.Sig, a.Payee, "receipt"); err != nil {
		return st, err
	}
	if st.Final {
		switch {
		case d == st.LastHash:
			return st, fmt.Errorf("%w: final receipt seq %d", ErrReplay, r.Seq)
		case r.Final:
			return st, fmt.Errorf("%w: seq %d %s, recorded final is %s", ErrConflictingFinal, r.Seq, d.Hex(), st.LastHash.Hex())
		default:
			return st, fmt.Errorf("%w: seq %d", ErrAfterFinal, r.Seq)
		}
	}
	if r.Seq <= st.LastSeq {
		if r.Seq == st.LastSeq && d == st.LastHash {
			return st, fmt.Errorf("%w: receipt seq %d", ErrReplay, r.Seq)
		}
		return st, fmt.Errorf("%w: seq %d, want %d", ErrSeq, r.Seq, st.LastSeq+1)
	}
	if r.Seq != st.LastSeq+1 {
		return st, fmt.Errorf("%w: seq %d, want %d", ErrSeq, r.Seq, st.LastSeq+1)
	}
	if r.PrevHash != st.LastHash {
		return st, fmt.Errorf("%w: prev_hash %s, want %s", ErrChain, r.PrevHash.Hex(), st.LastHash.Hex())
	}
	floor := a.StartsAt
	if st.LastSeq > 0 {
		floor = st.LastEnd
	}
	switch {
	case r.End <= r.Start:
		return st, fmt.Errorf("%w: end %d is not after start %d", ErrInterval, r.End, r.Start)
	case r.Start < floor:
		return st, fmt.Errorf("%w: start %d is before %d (agreement start or previous end)", ErrInterval, r.Start, floor)
	case r.End > uint64(now.Add(MaxClockSkew).Unix()):
		return st, fmt.Errorf("%w: end %d is in the future (now %d)", ErrInterval, r.End, now.Unix())
	case r.End-a.StartsAt > a.MaxDurationSeconds:
		return st, fmt.Errorf("%w: end %d is past the agreement's max_duration_seconds %d", ErrInterval, r.End, a.MaxDurationSeconds)
	}
	wall := r.End - r.Start
	if max := mulCap(wall*1000, a.GPUs); r.GPUms > max {
		return st, fmt.Errorf("%w: gpu_ms %d > %d s × %d GPUs", ErrCounters, r.GPUms, wall, a.GPUs)
	}
	if max := mulCap(wall, a.CPUMillis); r.CPUms > max {
		return st, fmt.Errorf("%w: cpu_ms %d > %d s × %d millicores", ErrCounters, r.CPUms, wall, a.CPUMillis)
	}
	if r.Cumulative <= st.Cumulative {
		return st, fmt.Errorf("%w: %s after %s", ErrNotIncreasing, r.Cumulative, st.Cumulative)
	}
	next := ReceiptState{
		LastSeq: r.Seq, LastHash: d, LastEnd: r.End,
		Cumulative: r.Cumulative,
		GPUms:      st.GPUms + r.GPUms, CPUms: st.CPUms + r.CPUms,
		Final: r.Final,
	}
	want, err := a.Cost(next.GPUms, next.CPUms)
	if err != nil {
		return st, err
	}
	if r.Cumulative != want {
		return st, fmt.Errorf("%w: cumulative %s, prices give %s", ErrPrice, r.Cumulative, want)
	}
	return next, nil
}

// NextReceipt builds the provider's next receipt from metered counters,
// pricing it under the agreement and chaining it to st.
func NextReceipt(sa *SignedAgreement, st ReceiptState, start, end, gpuMs, cpuMs uint64, final bool) (UsageReceipt, error) {
	cum, err := sa.Agreement.Cost(st.GPUms+gpuMs, st.CPUms+cpuMs)
	if err != nil {
		return UsageReceipt{}, err
	}
	return UsageReceipt{
		AgreementID: sa.Agreement.ID(sa.Domain), Seq: st.LastSeq + 1,
		Start: start, End: end, GPUms: gpuMs, CPUms: cpuMs,
		Cumulative: cum, PrevHash: st.LastHash, Final: final,
	}, nil
}

// Advance returns the state after the provider's own receipt r.
func (st ReceiptState) Advance(d Domain, r *UsageReceipt) ReceiptState {
	return ReceiptState{
		LastSeq: r.Seq, LastHash: r.Digest(d), LastEnd: r.End, Cumulative: r.Cumulative,
		GPUms: st.GPUms + r.GPUms, CPUms: st.CPUms + r.CPUms, Final: r.Final,
	}
}

// CheckVoucher applies the voucher rules for a payee holding best (the
// highest cumulative accepted so far): same chain, contract and channel;
// signed by the channel's signer with a low-s 65-byte signature; above
// best (else a replay, dropped); at most the deposit.
func CheckVoucher(ch ChannelInfo, best Amount, v *SignedVoucher) error {
	switch {
	case v.Domain.ChainID != ch.Domain.ChainID:
		return fmt.Errorf("%w: chain %d, channel is on %d", ErrWrongChain, v.Domain.ChainID, ch.Domain.ChainID)
	case v.Domain.Contract != ch.Domain.Contract:
		return fmt.Errorf("%w: %s, channel is in %s", ErrWrongContract, v.Domain.Contract.Hex(), ch.Domain.Contract.Hex())
	case v.ChannelID != ch.ID:
		return fmt.Errorf("%w: %s, want %s", ErrWrongChannel, v.ChannelID.Hex(), ch.ID.Hex())
	case v.Cumulative < 0:
		return fmt.Errorf("%w: negative cumulative", ErrAmount)
	}
	if err := verifySig(v.Digest(), v.Sig, ch.Signer, "voucher"); err != nil {
		return err
	}
	if v.Cumulative <= best {
		return fmt.Errorf("%w: voucher for %s, already hold %s", ErrReplay, v.Cumulative, best)
	}
	if v.Cumulative > ch.Deposit {
		return fmt.Errorf("%w: %s > deposit %s (hint: the payer must top up)", ErrAboveDeposit, v.Cumulative, ch.Deposit)
	}
	return nil
}

func mulCap(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}
