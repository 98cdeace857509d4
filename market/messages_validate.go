package market

import (
	"fmt"
	"math"
	"time"
)

// Validate implements Message. The spec is validated (and normalized) too.
func (m *Proposal) Validate() error {
	if err := m.JobID.Validate(); err != nil {
		return badMsg(m.Type(), "%v", err)
	}
	if m.Requester == (Address{}) {
		return badMsg(m.Type(), "requester: required")
	}
	if err := m.Spec.Validate(); err != nil {
		return fmt.Errorf("%w: type %d: %w", ErrBadMessage, m.Type(), err)
	}
	return nil
}

// Validate implements Message.
func (m *QuoteMsg) Validate() error {
	t := m.Type()
	switch err := m.JobID.Validate(); {
	case err != nil:
		return badMsg(t, "%v", err)
	case m.IntervalSeconds < MinInterval || m.IntervalSeconds > MaxInterval:
		return badMsg(t, "interval_seconds: %d outside %d..%d", m.IntervalSeconds, MinInterval, MaxInterval)
	case m.MaxDurationSeconds < 1 || m.MaxDurationSeconds > uint64(MaxJobDuration/time.Second):
		return badMsg(t, "max_duration_seconds: %d outside 1..%d", m.MaxDurationSeconds, uint64(MaxJobDuration/time.Second))
	case m.Rate > MaxPricePerSec:
		return badMsg(t, "rate: %d exceeds %d", m.Rate, MaxPricePerSec)
	case m.ExpiresAt.IsZero():
		return badMsg(t, "expires_at: required")
	}
	return nil
}

// Validate implements Message.
func (m *RefusalMsg) Validate() error {
	if err := m.JobID.Validate(); err != nil {
		return badMsg(m.Type(), "%v", err)
	}
	if err := checkCode(m.Type(), "code", string(m.Code)); err != nil {
		return err
	}
	return checkText(m.Type(), "message", m.Message, MaxReason)
}

// Validate implements Message.
func (m *AgreementMsg) Validate() error {
	t := m.Type()
	switch err := m.JobID.Validate(); {
	case err != nil:
		return badMsg(t, "%v", err)
	case m.JobHash == (Hash{}):
		return badMsg(t, "job_hash: required")
	case m.Requester == (Address{}) || m.Payee == (Address{}):
		return badMsg(t, "requester and payee: required")
	case m.ChannelID == (Hash{}):
		return badMsg(t, "channel_id: required")
	case m.Deposit == 0 || m.Deposit > math.MaxInt64:
		return badMsg(t, "deposit: %d outside 1..%d (the token's smallest unit)", m.Deposit, uint64(math.MaxInt64))
	case m.GPUs > MaxGPUs || m.CPUs < 1 || m.CPUs > MaxMilliCPU:
		return badMsg(t, "gpus or cpu_millis out of range")
	case m.IntervalSeconds < MinInterval || m.IntervalSeconds > MaxInterval:
		return badMsg(t, "interval_seconds: %d outside %d..%d", m.IntervalSeconds, MinInterval, MaxInterval)
	case m.MaxDurationSeconds < 1 || m.MaxDurationSeconds > uint64(MaxJobDuration/time.Second):
		return badMsg(t, "max_duration_seconds: %d out of range", m.MaxDurationSeconds)
	case m.StartsAt == 0 || m.StartsAt > 1<<40:
		return badMsg(t, "starts_at: want unix seconds")
	case m.VoucherBase > math.MaxInt64-m.Deposit:
		return badMsg(t, "voucher_base: %d with deposit %d passes %d (the token's smallest unit)", m.VoucherBase, m.Deposit, uint64(math.MaxInt64))
	}
	if err := checkSig(t, "requester_sig", m.RequesterSig, false); err != nil {
		return err
	}
	return checkSig(t, "provider_sig", m.ProviderSig, false)
}

// maxReceiptSeconds bounds one receipt's counters: the longest interval,
// twice over for scheduling slack, on every GPU or core at once.
const maxReceiptSeconds = 2 * MaxInterval

// Validate implements Message.
func (m *Receipt) Validate() error {
	t := m.Type()
	switch err := m.JobID.Validate(); {
	case err != nil:
		return badMsg(t, "%v", err)
	case m.Seq == 0:
		return badMsg(t, "seq: starts at 1")
	case m.Start == 0 || m.End < m.Start || m.End-m.Start > maxReceiptSeconds || m.End > 1<<40:
		return badMsg(t, "start..end: want unix seconds, at most %d s apart", maxReceiptSeconds)
	case m.GPUms > (m.End-m.Start)*1000*MaxGPUs:
		return badMsg(t, "gpu_ms: %d exceeds what %d s on %d GPUs allow", m.GPUms, m.End-m.Start, MaxGPUs)
	case m.CPUms > (m.End-m.Start)*uint64(MaxMilliCPU):
		return badMsg(t, "cpu_ms: %d exceeds what %d s allow", m.CPUms, m.End-m.Start)
	case m.Seq == 1 && m.PrevHash != (Hash{}):
		return badMsg(t, "prev_hash: must be zero for seq 1")
	case m.Seq > 1 && m.PrevHash == (Hash{}):
		return badMsg(t, "prev_hash: required after seq 1")
	}
	return checkSig(t, "sig", m.Sig, false)
}

// Validate implements Message.
func (m *Voucher) Validate() error {
	if err := m.JobID.Validate(); err != nil {
		return badMsg(m.Type(), "%v", err)
	}
	if m.ChannelID == (Hash{}) {
		return badMsg(m.Type(), "channel_id: required")
	}
	return checkSig(m.Type(), "sig", m.Sig, false)
}

// Validate implements Message.
func (m *LogChunk) Validate() error {
	t := m.Type()
	switch err := m.JobID.Validate(); {
	case err != nil:
		return badMsg(t, "%v", err)
	case m.Seq == 0:
		return badMsg(t, "seq: starts at 1")
	case m.Stream != "stdout" && m.Stream != "stderr":
		return badMsg(t, "stream: want stdout or stderr")
	case len(m.Data) > MaxLogChunk:
		return badMsg(t, "data: %d bytes, at most %d", len(m.Data), MaxLogChunk)
	}
	return nil
}

// Validate implements Message.
func (m *Result) Validate() error {
	t := m.Type()
	if err := m.JobID.Validate(); err != nil {
		return badMsg(t, "%v", err)
	}
	if m.ExitCode < -1 || m.ExitCode > 255 {
		return badMsg(t, "exit_code: %d outside -1..255", m.ExitCode)
	}
	if len(m.Outputs) > MaxResultFiles {
		return badMsg(t, "outputs: %d files, at most %d", len(m.Outputs), MaxResultFiles)
	}
	seen := map[string]bool{}
	for i, o := range m.Outputs {
		if err := o.Digest.Validate(); err != nil {
			return badMsg(t, "outputs[%d].digest: %v", i, err)
		}
		if o.Size < 0 {
			return badMsg(t, "outputs[%d].size: negative", i)
		}
		if seen[o.Path] {
			return badMsg(t, "outputs[%d].path: %q appears twice", i, clip(o.Path))
		}
		seen[o.Path] = true
		if _, err := outputRel(o.Path); err != nil {
			return badMsg(t, "outputs[%d].path: %q: %v", i, clip(o.Path), err)
		}
	}
	if err := checkText(t, "log_tail", m.LogTail, MaxLogTail); err != nil {
		return err
	}
	if m.Error != "" {
		return checkCode(t, "error", string(m.Error))
	}
	return nil
}

// Validate implements Message.
func (m *Preemption) Validate() error {
	if err := m.JobID.Validate(); err != nil {
		return badMsg(m.Type(), "%v", err)
	}
	if m.GraceSeconds > 3600 {
		return badMsg(m.Type(), "grace_seconds: %d exceeds an hour", m.GraceSeconds)
	}
	return checkCode(m.Type(), "reason", string(m.Reason))
}

// Validate implements Message.
func (m *Cancel) Validate() error {
	if err := m.JobID.Validate(); err != nil {
		return badMsg(m.Type(), "%v", err)
	}
	return checkText(m.Type(), "reason", m.Reason, MaxReason)
}
