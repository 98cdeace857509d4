package wallet

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// TypedField is one member of an EIP-712 struct type, as eth_signTypedData
// and every EIP-712 library take it.
type TypedField struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// typedFields are the members of the types in eip712.go, in their order:
// TestTypedFieldsMatchTypeStrings keeps the two the same.
var typedFields = map[string][]TypedField{
	"Agreement": {{"jobHash", "bytes32"}, {"requester", "address"}, {"payee", "address"}, {"channelId", "bytes32"},
		{"gpus", "uint64"}, {"cpuMillis", "uint64"}, {"pricePerGpuSecond", "uint256"}, {"pricePerCpuSecond", "uint256"},
		{"intervalSeconds", "uint64"}, {"maxDurationSeconds", "uint64"}, {"startsAt", "uint64"}},
	"UsageReceipt": {{"agreementId", "bytes32"}, {"seq", "uint64"}, {"start", "uint64"}, {"end", "uint64"},
		{"gpuMs", "uint64"}, {"cpuMs", "uint64"}, {"cumulative", "uint256"}, {"prevHash", "bytes32"}, {"final", "bool"}},
	"Voucher": {{"channelId", "bytes32"}, {"cumulative", "uint256"}},
}

// Record kinds in an export.
const (
	RecordAgreement = "agreement"
	RecordReceipt   = "receipt"
	RecordVoucher   = "voucher"
)

// ExportDomain is an EIP-712 domain with the field names EIP-712 uses.
// ChainID is a decimal string: a uint256 does not fit a JSON number.
type ExportDomain struct {
	Name              string         `json:"name"`
	Version           string         `json:"version"`
	ChainID           string         `json:"chainId"`
	VerifyingContract common.Address `json:"verifyingContract"`
}

// ExportSignature is one signature over a record's digest: the role the
// rules require of its signer and the address it recovers to here.
type ExportSignature struct {
	Role      string         `json:"role"` // requester, payee (agreement); provider (receipt); signer (voucher)
	Signer    common.Address `json:"signer"`
	Signature Signature      `json:"signature"`
	Error     string         `json:"error,omitempty"` // the signature recovers no key
}

// ExportRecord is one signed record as `spare wallet records --json`
// prints it: everything an EIP-712 implementation needs to recompute the
// digest and recover each signer (domain, types, primaryType, message),
// in the shape eth_signTypedData_v4 takes. Message values are decimal
// strings for uint, 0x-prefixed lowercase hex for bytes32 and address,
// and JSON booleans for bool.
type ExportRecord struct {
	Kind        string                  `json:"kind"`
	Domain      ExportDomain            `json:"domain"`
	PrimaryType string                  `json:"primaryType"`
	Types       map[string][]TypedField `json:"types"`
	Message     map[string]any          `json:"message"`
	Digest      common.Hash             `json:"digest"`
	Signatures  []ExportSignature       `json:"signatures"`
	ChannelID   common.Hash             `json:"channel_id"`
	AgreementID *common.Hash            `json:"agreement_id,omitempty"` // receipts, and vouchers that name their job
	RecordedAt  time.Time               `json:"recorded_at"`
}

func exportDomain(d Domain) ExportDomain {
	return ExportDomain{Name: DomainName, Version: DomainVersion, ChainID: strconv.FormatUint(d.ChainID, 10), VerifyingContract: d.Contract}
}

func exportSig(role string, digest common.Hash, sig Signature) ExportSignature {
	s := ExportSignature{Role: role, Signature: sig}
	a, err := Recover(digest, sig)
	if err != nil {
		s.Error = err.Error()
	} else {
		s.Signer = a
	}
	return s
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func newRecord(kind, primary string, d Domain, msg map[string]any, at int64) ExportRecord {
	return ExportRecord{Kind: kind, Domain: exportDomain(d), PrimaryType: primary,
		Types: map[string][]TypedField{primary: typedFields[primary]}, Message: msg, RecordedAt: time.Unix(at, 0).UTC()}
}

// AgreementRecord is sa as an export record, with both signatures.
func AgreementRecord(sa *SignedAgreement, recordedAt int64) ExportRecord {
	a := &sa.Agreement
	r := newRecord(RecordAgreement, "Agreement", sa.Domain, map[string]any{
		"jobHash": a.JobHash, "requester": a.Requester, "payee": a.Payee, "channelId": a.ChannelID,
		"gpus": u(a.GPUs), "cpuMillis": u(a.CPUMillis), "pricePerGpuSecond": u(uint64(a.PricePerGPUSecond)),
		"pricePerCpuSecond": u(uint64(a.PricePerCPUSecond)), "intervalSeconds": u(a.IntervalSeconds),
		"maxDurationSeconds": u(a.MaxDurationSeconds), "startsAt": u(a.StartsAt),
	}, recordedAt)
	r.Digest, r.ChannelID = a.ID(sa.Domain), a.ChannelID
	r.Signatures = []ExportSignature{exportSig("requester", r.Digest, sa.RequesterSig), exportSig("payee", r.Digest, sa.PayeeSig)}
	return r
}

// ReceiptRecord is a receipt signed under d as an export record.
func ReceiptRecord(d Domain, channel common.Hash, sr *SignedReceipt, recordedAt int64) ExportRecord {
	rc := &sr.UsageReceipt
	r := newRecord(RecordReceipt, "UsageReceipt", d, map[string]any{
		"agreementId": rc.AgreementID, "seq": u(rc.Seq), "start": u(rc.Start), "end": u(rc.End), "gpuMs": u(rc.GPUms),
		"cpuMs": u(rc.CPUms), "cumulative": u(uint64(rc.Cumulative)), "prevHash": rc.PrevHash, "final": rc.Final,
	}, recordedAt)
	aid := rc.AgreementID
	r.Digest, r.ChannelID, r.AgreementID = rc.Digest(d), channel, &aid
	r.Signatures = []ExportSignature{exportSig("provider", r.Digest, sr.Sig)}
	return r
}

// VoucherRecord is v as an export record.
func VoucherRecord(v *SignedVoucher, agreement common.Hash, recordedAt int64) ExportRecord {
	r := newRecord(RecordVoucher, "Voucher", v.Domain, map[string]any{
		"channelId": v.ChannelID, "cumulative": u(uint64(v.Cumulative)),
	}, recordedAt)
	r.Digest, r.ChannelID = v.Digest(), v.ChannelID
	if agreement != (common.Hash{}) {
		r.AgreementID = &agreement
	}
	r.Signatures = []ExportSignature{exportSig("signer", r.Digest, v.Sig)}
	return r
}

// Records calls fn with every signed record in the ledger, each under the
// domain it was signed under: agreements, then receipts (by agreement and
// sequence), then vouchers (by channel and amount), streaming: fn must
// not call the ledger, whose one connection is reading. It stops at fn's
// first error and returns it.
func (l *Ledger) Records(ctx context.Context, fn func(ExportRecord) error) error {
	steps := []func(context.Context, func(ExportRecord) error) error{l.exportAgreements, l.exportReceipts, l.exportVouchers}
	for _, step := range steps {
		if err := step(ctx, fn); err != nil {
			return err
		}
	}
	return nil
}

func (l *Ledger) each(ctx context.Context, query string, scan func(*sql.Rows) (ExportRecord, error), fn func(ExportRecord) error) error {
	rows, err := l.db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("reading records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return fmt.Errorf("reading records: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading records: %w", err)
	}
	return nil
}

func (l *Ledger) exportAgreements(ctx context.Context, fn func(ExportRecord) error) error {
	return l.each(ctx, `SELECT id, body, created, chain_id, contract FROM agreements ORDER BY created, id`, func(rows *sql.Rows) (ExportRecord, error) {
		var id, body, contract string
		var at, chain int64
		if err := rows.Scan(&id, &body, &at, &chain, &contract); err != nil {
			return ExportRecord{}, err
		}
		var sa SignedAgreement
		if err := json.Unmarshal([]byte(body), &sa); err != nil {
			return ExportRecord{}, fmt.Errorf("agreement %s: %w", id, err)
		}
		if d := (Domain{ChainID: uint64(chain), Contract: common.HexToAddress(contract)}); d != sa.Domain {
			return ExportRecord{}, fmt.Errorf("agreement %s: its row says domain %+v, its body %+v", id, d, sa.Domain)
		}
		return AgreementRecord(&sa, at), nil
	}, fn)
}

func (l *Ledger) exportReceipts(ctx context.Context, fn func(ExportRecord) error) error {
	return l.each(ctx, `SELECT r.agreement_id, a.channel_id, r.seq, r.start, r.end, r.gpu_ms, r.cpu_ms, r.cumulative, r.prev_hash, r.final,
		r.sig, r.recorded_at, r.chain_id, r.contract FROM receipts r JOIN agreements a ON a.id = r.agreement_id
		ORDER BY a.created, r.agreement_id, r.seq`, func(rows *sql.Rows) (ExportRecord, error) {
		var sr SignedReceipt
		var aid, ch, prev, contract string
		var final int
		var at, chain int64
		var sig []byte
		if err := rows.Scan(&aid, &ch, &sr.Seq, &sr.Start, &sr.End, &sr.GPUms, &sr.CPUms, &sr.Cumulative, &prev, &final,
			&sig, &at, &chain, &contract); err != nil {
			return ExportRecord{}, err
		}
		sr.AgreementID, sr.PrevHash, sr.Final, sr.Sig = common.HexToHash(aid), common.HexToHash(prev), final != 0, sig
		return ReceiptRecord(Domain{ChainID: uint64(chain), Contract: common.HexToAddress(contract)}, common.HexToHash(ch), &sr, at), nil
	}, fn)
}

func (l *Ledger) exportVouchers(ctx context.Context, fn func(ExportRecord) error) error {
	return l.each(ctx, `SELECT channel_id, cumulative, agreement_id, sig, recorded_at, chain_id, contract FROM vouchers
		ORDER BY channel_id, cumulative`, func(rows *sql.Rows) (ExportRecord, error) {
		var v SignedVoucher
		var ch, aid, contract string
		var at, chain int64
		var sig []byte
		if err := rows.Scan(&ch, &v.Cumulative, &aid, &sig, &at, &chain, &contract); err != nil {
			return ExportRecord{}, err
		}
		v.ChannelID, v.Sig = common.HexToHash(ch), sig
		v.Domain = Domain{ChainID: uint64(chain), Contract: common.HexToAddress(contract)}
		var agreement common.Hash
		if aid != "" {
			agreement = common.HexToHash(aid)
		}
		return VoucherRecord(&v, agreement, at), nil
	}, fn)
}
