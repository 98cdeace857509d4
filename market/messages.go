package market

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ProtocolID is the stream protocol the messages below travel on.
const ProtocolID = "/spare/job/1.0.0"

// MsgType tags a message on the wire; see doc.go for the table.
type MsgType uint64

// Message types. 0x7f is the framing's reserved error type and is never
// used here.
const (
	TypeProposal   MsgType = 1
	TypeQuote      MsgType = 2
	TypeRefusal    MsgType = 3
	TypeAgreement  MsgType = 4
	TypeReceipt    MsgType = 5
	TypeVoucher    MsgType = 6
	TypeLogChunk   MsgType = 7
	TypeResult     MsgType = 8
	TypePreemption MsgType = 9
	TypeCancel     MsgType = 10
)

// Version1 is the only payload version of every message type so far.
const Version1 = 1

// Limits on messages.
const (
	MaxMessageSize = 128 << 10 // a whole encoded message
	MaxLogChunk    = 32 << 10  // LogChunk.Data
	MaxLogTail     = 16 << 10  // Result.LogTail
	MaxResultFiles = 1024      // Result.Outputs
	MaxReason      = 512       // human text in refusals, notices, results
	MaxSigLen      = 65        // an Ethereum signature: r ‖ s ‖ v
)

// ErrBadMessage is wrapped by every decoding and validation failure.
var ErrBadMessage = errors.New("bad job protocol message")

// Message is one message of the job protocol.
type Message interface {
	Type() MsgType
	// Validate checks bounds and forms; it does not verify signatures.
	Validate() error
}

// JobID names one job between one requester and one provider: 16 random
// bytes in lowercase hex, chosen by the requester.
type JobID string

// Validate checks the form.
func (id JobID) Validate() error {
	if len(id) != 32 || strings.ToLower(string(id)) != string(id) {
		return fmt.Errorf("job_id: want 32 lowercase hex digits")
	}
	if _, err := hex.DecodeString(string(id)); err != nil {
		return fmt.Errorf("job_id: want 32 lowercase hex digits")
	}
	return nil
}

// MarshalText writes the hash as 0x and 64 hex digits.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads 0x and 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	s, ok := strings.CutPrefix(string(b), "0x")
	if !ok || len(s) != 64 {
		return errors.New("want 0x and 64 hex digits")
	}
	_, err := hex.Decode(h[:], []byte(s))
	return err
}

// Address is an Ethereum address, 20 bytes, written as 0x and 40 hex digits.
type Address [20]byte

func (a Address) String() string { return fmt.Sprintf("%#x", a[:]) }

// MarshalText writes 0x and 40 hex digits.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads 0x and 40 hex digits, either case.
func (a *Address) UnmarshalText(b []byte) error {
	s, ok := strings.CutPrefix(string(b), "0x")
	if !ok || len(s) != 40 {
		return errors.New("want 0x and 40 hex digits")
	}
	_, err := hex.Decode(a[:], []byte(s))
	return err
}

// Proposal (requester → provider) asks for a quote on a job.
type Proposal struct {
	JobID     JobID   `json:"job_id"`
	Spec      JobSpec `json:"spec"`
	Requester Address `json:"requester"` // the payer's address
}

// QuoteMsg (provider → requester) offers terms for a proposed job.
type QuoteMsg struct {
	JobID JobID `json:"job_id"`
	Quote
}

// RefusalMsg (either way) declines with a stable code: the provider
// refusing a proposal or agreement, or either side ending a session.
type RefusalMsg struct {
	JobID JobID `json:"job_id"`
	Refusal
}

// AgreementMsg carries the terms both parties sign (the wallet's EIP-712
// Agreement, field for field) and the payment channel's deposit. The
// requester sends it with RequesterSig; the provider answers with the same
// terms and ProviderSig added. The deposit is outside the signed terms: it
// is the channel's, and the provider records it as the channel's cap.
type AgreementMsg struct {
	JobID              JobID    `json:"job_id"`
	JobHash            Hash     `json:"job_hash"`
	Requester          Address  `json:"requester"`
	Payee              Address  `json:"payee"`
	ChannelID          Hash     `json:"channel_id"`
	Deposit            uint64   `json:"deposit"` // what the channel holds for this job; at least the quote's max_cost
	GPUs               uint32   `json:"gpus"`
	CPUs               MilliCPU `json:"cpu_millis"`
	Price              Price    `json:"price"`
	IntervalSeconds    uint32   `json:"interval_seconds"`
	MaxDurationSeconds uint64   `json:"max_duration_seconds"`
	StartsAt           uint64   `json:"starts_at"` // unix seconds
	// VoucherBase is what the channel's vouchers claimed before this job
	// (a channel reused job after job): this job's vouchers sign
	// VoucherBase plus its receipts' cumulative amount. Zero: a fresh
	// channel.
	VoucherBase  uint64 `json:"voucher_base,omitempty"`
	RequesterSig []byte `json:"requester_sig"`
	ProviderSig  []byte `json:"provider_sig,omitempty"`
}

// Receipt (provider → requester) meters one interval: the wallet's
// UsageReceipt plus the job it belongs to.
type Receipt struct {
	JobID      JobID  `json:"job_id"`
	Seq        uint64 `json:"seq"` // 1 for the first interval
	Start      uint64 `json:"start"`
	End        uint64 `json:"end"`    // unix seconds
	GPUms      uint64 `json:"gpu_ms"` // this interval, summed over GPUs
	CPUms      uint64 `json:"cpu_ms"` // this interval, core-milliseconds
	Cumulative uint64 `json:"cumulative"`
	PrevHash   Hash   `json:"prev_hash"` // digest of receipt Seq-1; zero for Seq 1
	Final      bool   `json:"final,omitempty"`
	Sig        []byte `json:"sig"`
}

// Voucher (requester → provider) pays the cumulative amount so far.
type Voucher struct {
	JobID      JobID  `json:"job_id"`
	ChannelID  Hash   `json:"channel_id"`
	Cumulative uint64 `json:"cumulative"`
	Sig        []byte `json:"sig"`
}

// LogChunk (provider → requester) streams job output.
type LogChunk struct {
	JobID  JobID  `json:"job_id"`
	Seq    uint64 `json:"seq"`    // 1 for the first chunk
	Stream string `json:"stream"` // "stdout" or "stderr"
	Data   []byte `json:"data"`
}

// Result (provider → requester) ends a job; outputs are fetched by digest.
type Result struct {
	JobID    JobID       `json:"job_id"`
	ExitCode int         `json:"exit_code"` // -1: killed (Error says why)
	Outputs  []Output    `json:"outputs,omitempty"`
	LogTail  string      `json:"log_tail,omitempty"`
	Error    ResultError `json:"error,omitempty"` // why the job ended early; empty when it exited by itself
}

// ResultError is the code of Result.Error: why a job ended other than by
// exiting by itself. Codes travel on the wire and are never renamed; new
// ones may be added, so a decoder checks a code's form, not that it is
// one of these, and an unknown code is a failure of the job, not retried.
type ResultError string

// Result error codes.
const (
	ResultTimeout     ResultError = "timeout"      // ran past its max duration
	ResultMemory      ResultError = "memory"       // killed at its memory limit
	ResultOutputFull  ResultError = "output_full"  // wrote more than its output quota
	ResultCancelled   ResultError = "cancelled"    // the requester cancelled it
	ResultCreditLimit ResultError = "credit_limit" // ended because payment stopped
	ResultPreempted   ResultError = "preempted"    // the owner came back or the node drained
	ResultInternal    ResultError = "internal"     // the provider failed, not the job
	// ResultChannelClosing: the requester asked the escrow to close the
	// job's channel, so the provider ended the job and settled.
	ResultChannelClosing ResultError = "channel_closing"
)

// Retryable says whether the provider, not the job, failed, so that the
// requester runs the job again elsewhere. A preemption reason sent in
// place of "preempted" counts as a preemption.
func (e ResultError) Retryable() bool {
	switch e {
	case ResultPreempted, ResultInternal, ResultError(PreemptUserReturned), ResultError(PreemptDraining):
		return true
	}
	return false
}

// Preemption (provider → requester) says the job is frozen or ending
// because the owner came back, the node drains, or payment stopped.
type Preemption struct {
	JobID        JobID         `json:"job_id"`
	Reason       PreemptReason `json:"reason"`
	Frozen       bool          `json:"frozen"`
	GraceSeconds uint32        `json:"grace_seconds"` // how long before it is killed
}

// PreemptReason is the code of Preemption.Reason. Codes travel on the wire
// and are never renamed; new ones may be added, so a decoder checks a
// code's form, not that it is one of these.
type PreemptReason string

// Preemption reasons.
const (
	PreemptUserReturned PreemptReason = "user_returned" // the owner is using the machine
	PreemptDraining     PreemptReason = "draining"      // the provider's daemon is stopping
	PreemptCreditLimit  PreemptReason = "credit_limit"  // unpaid work passed the credit limit
)

// Cancel (requester → provider) ends the job; the provider answers with a
// final receipt and a result.
type Cancel struct {
	JobID  JobID  `json:"job_id"`
	Reason string `json:"reason,omitempty"`
}

func (*Proposal) Type() MsgType     { return TypeProposal }
func (*QuoteMsg) Type() MsgType     { return TypeQuote }
func (*RefusalMsg) Type() MsgType   { return TypeRefusal }
func (*AgreementMsg) Type() MsgType { return TypeAgreement }
func (*Receipt) Type() MsgType      { return TypeReceipt }
func (*Voucher) Type() MsgType      { return TypeVoucher }
func (*LogChunk) Type() MsgType     { return TypeLogChunk }
func (*Result) Type() MsgType       { return TypeResult }
func (*Preemption) Type() MsgType   { return TypePreemption }
func (*Cancel) Type() MsgType       { return TypeCancel }

func newMessage(t MsgType) Message {
	switch t {
	case TypeProposal:
		return &Proposal{}
	case TypeQuote:
		return &QuoteMsg{}
	case TypeRefusal:
		return &RefusalMsg{}
	case TypeAgreement:
		return &AgreementMsg{}
	case TypeReceipt:
		return &Receipt{}
	case TypeVoucher:
		return &Voucher{}
	case TypeLogChunk:
		return &LogChunk{}
	case TypeResult:
		return &Result{}
	case TypePreemption:
		return &Preemption{}
	case TypeCancel:
		return &Cancel{}
	}
	return nil
}

// EncodeMessage validates m and returns its body: uvarint type, uvarint
// version, JSON payload. It is the body of one p2p/wire frame.
func EncodeMessage(m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	b := binary.AppendUvarint(nil, uint64(m.Type()))
	b = binary.AppendUvarint(b, Version1)
	b = append(b, payload...)
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBadMessage, len(b), MaxMessageSize)
	}
	return b, nil
}

// DecodeMessage parses a body written by EncodeMessage, refusing oversized
// bodies, unknown types and versions, unknown fields and invalid values.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBadMessage, len(b), MaxMessageSize)
	}
	typ, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, fmt.Errorf("%w: no type", ErrBadMessage)
	}
	ver, m := binary.Uvarint(b[n:])
	if m <= 0 {
		return nil, fmt.Errorf("%w: no version", ErrBadMessage)
	}
	return DecodePayload(typ, ver, b[n+m:])
}

// DecodePayload parses one message whose type and version came from the
// frame (p2p/wire's Envelope).
func DecodePayload(typ, version uint64, payload []byte) (Message, error) {
	if len(payload) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBadMessage, len(payload), MaxMessageSize)
	}
	msg := newMessage(MsgType(typ))
	if msg == nil {
		return nil, fmt.Errorf("%w: unknown type %d", ErrBadMessage, typ)
	}
	if version != Version1 {
		return nil, fmt.Errorf("%w: type %d version %d not supported (want %d)", ErrBadMessage, typ, version, Version1)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(msg); err != nil {
		return nil, fmt.Errorf("%w: type %d: %s", ErrBadMessage, typ, jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: type %d: data after the payload", ErrBadMessage, typ)
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	return msg, nil
}

func badMsg(t MsgType, format string, args ...any) error {
	return fmt.Errorf("%w: type %d: %s", ErrBadMessage, t, fmt.Sprintf(format, args...))
}

func checkText(t MsgType, field, s string, max int) error {
	if len(s) > max || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return badMsg(t, "%s: at most %d bytes of UTF-8 without NUL", field, max)
	}
	return nil
}

func checkCode(t MsgType, field, s string) error {
	if s == "" || len(s) > 64 {
		return badMsg(t, "%s: a code of 1 to 64 characters", field)
	}
	for _, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			return badMsg(t, "%s: %q is not a code (a-z, 0-9, _)", field, clip(s))
		}
	}
	return nil
}

func checkSig(t MsgType, field string, sig []byte, required bool) error {
	if (required && len(sig) == 0) || (len(sig) != 0 && len(sig) != MaxSigLen) {
		return badMsg(t, "%s: want a %d-byte signature", field, MaxSigLen)
	}
	return nil
}
