package wallet

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// EIP-712 type strings. They are part of the wire and contract format:
// changing one changes every digest, so they never change within a
// protocol version. The escrow contract (wallet/contracts) hashes Voucher
// with the same string.
const (
	domainType      = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
	agreementType   = "Agreement(bytes32 jobHash,address requester,address payee,bytes32 channelId,uint64 gpus,uint64 cpuMillis,uint256 pricePerGpuSecond,uint256 pricePerCpuSecond,uint64 intervalSeconds,uint64 maxDurationSeconds,uint64 startsAt)"
	receiptType     = "UsageReceipt(bytes32 agreementId,uint64 seq,uint64 start,uint64 end,uint64 gpuMs,uint64 cpuMs,uint256 cumulative,bytes32 prevHash,bool final)"
	voucherType     = "Voucher(bytes32 channelId,uint256 cumulative)"
	peerBindingType = "PeerBinding(bytes32 peerKey,address payee,uint256 chainId,uint64 expires)"

	// DomainName and DomainVersion are the EIP-712 domain's name and version.
	DomainName    = "Spare"
	DomainVersion = "1"
)

var (
	domainTypeHash      = crypto.Keccak256Hash([]byte(domainType))
	agreementTypeHash   = crypto.Keccak256Hash([]byte(agreementType))
	receiptTypeHash     = crypto.Keccak256Hash([]byte(receiptType))
	voucherTypeHash     = crypto.Keccak256Hash([]byte(voucherType))
	peerBindingTypeHash = crypto.Keccak256Hash([]byte(peerBindingType))
	domainNameHash      = crypto.Keccak256Hash([]byte(DomainName))
	domainVersionHash   = crypto.Keccak256Hash([]byte(DomainVersion))
)

// Domain is the EIP-712 domain every Spare message is signed under: a
// signature made for one chain or one escrow contract never verifies on
// another. The ledger backend uses the zero address as its contract.
type Domain struct {
	ChainID  uint64         `json:"chain_id"`
	Contract common.Address `json:"contract"`
}

// Separator returns the domain separator hash.
func (d Domain) Separator() common.Hash {
	var b [5 * 32]byte
	copy(b[0:], domainTypeHash[:])
	copy(b[32:], domainNameHash[:])
	copy(b[64:], domainVersionHash[:])
	putUint(b[96:128], d.ChainID)
	copy(b[128+12:], d.Contract[:])
	return crypto.Keccak256Hash(b[:])
}

// digest is keccak256("\x19\x01" ‖ domainSeparator ‖ structHash).
func (d Domain) digest(structHash common.Hash) common.Hash {
	sep := d.Separator()
	var b [2 + 64]byte
	b[0], b[1] = 0x19, 0x01
	copy(b[2:], sep[:])
	copy(b[34:], structHash[:])
	return crypto.Keccak256Hash(b[:])
}

// Agreement is what requester and provider both sign before a job runs.
// Prices are token units per GPU-second and per CPU-core-second; the
// granted resources bound what a receipt may meter.
type Agreement struct {
	JobHash            common.Hash    `json:"job_hash"`
	Requester          common.Address `json:"requester"`
	Payee              common.Address `json:"payee"`
	ChannelID          common.Hash    `json:"channel_id"`
	GPUs               uint64         `json:"gpus"`
	CPUMillis          uint64         `json:"cpu_millis"` // granted CPU in thousandths of a core
	PricePerGPUSecond  Amount         `json:"price_per_gpu_second"`
	PricePerCPUSecond  Amount         `json:"price_per_cpu_second"` // per whole core
	IntervalSeconds    uint64         `json:"interval_seconds"`
	MaxDurationSeconds uint64         `json:"max_duration_seconds"`
	StartsAt           uint64         `json:"starts_at"` // unix seconds; no receipt may start before
}

// StructHash is the EIP-712 hashStruct of a.
func (a *Agreement) StructHash() common.Hash {
	var b [12 * 32]byte
	copy(b[0:], agreementTypeHash[:])
	copy(b[32:], a.JobHash[:])
	copy(b[64+12:], a.Requester[:])
	copy(b[96+12:], a.Payee[:])
	copy(b[128:], a.ChannelID[:])
	putUint(b[160:], a.GPUs)
	putUint(b[192:], a.CPUMillis)
	putUint(b[224:], uint64(a.PricePerGPUSecond))
	putUint(b[256:], uint64(a.PricePerCPUSecond))
	putUint(b[288:], a.IntervalSeconds)
	putUint(b[320:], a.MaxDurationSeconds)
	putUint(b[352:], a.StartsAt)
	return crypto.Keccak256Hash(b[:])
}

// ID is the agreement's digest under d; receipts refer to it.
func (a *Agreement) ID(d Domain) common.Hash { return d.digest(a.StructHash()) }

// Cost is what cumulative counters cost under a's prices (MeteredCost),
// rounded down to a whole token unit. A cost past the largest Amount, or a
// negative price (which CheckAgreement refuses), is an ErrAmount.
func (a *Agreement) Cost(gpuMs, cpuMs uint64) (Amount, error) {
	if a.PricePerGPUSecond < 0 || a.PricePerCPUSecond < 0 {
		return 0, fmt.Errorf("%w: negative price", ErrAmount)
	}
	c, ok := MeteredCost(gpuMs, cpuMs, uint64(a.PricePerGPUSecond), uint64(a.PricePerCPUSecond))
	if !ok || c > math.MaxInt64 {
		return 0, fmt.Errorf("%w: the cost of %d GPU-ms and %d CPU-ms is outside 0..%d token units", ErrAmount, gpuMs, cpuMs, int64(math.MaxInt64))
	}
	return Amount(c), nil
}

// SignedAgreement carries both parties' signatures over the agreement digest.
type SignedAgreement struct {
	Agreement
	Domain       Domain    `json:"domain"`
	RequesterSig Signature `json:"requester_sig"`
	PayeeSig     Signature `json:"payee_sig"`
}

// UsageReceipt meters one interval of work; the provider signs it.
// Counters are for this interval only; Cumulative is the total owed for
// the agreement up to End.
type UsageReceipt struct {
	AgreementID common.Hash `json:"agreement_id"`
	Seq         uint64      `json:"seq"` // 1 for the first interval
	Start       uint64      `json:"start"`
	End         uint64      `json:"end"` // unix seconds
	GPUms       uint64      `json:"gpu_ms"`
	CPUms       uint64      `json:"cpu_ms"` // core-milliseconds
	Cumulative  Amount      `json:"cumulative"`
	PrevHash    common.Hash `json:"prev_hash"` // digest of receipt Seq-1; zero for Seq 1
	Final       bool        `json:"final"`
}

// StructHash is the EIP-712 hashStruct of r.
func (r *UsageReceipt) StructHash() common.Hash {
	var b [10 * 32]byte
	copy(b[0:], receiptTypeHash[:])
	copy(b[32:], r.AgreementID[:])
	putUint(b[64:], r.Seq)
	putUint(b[96:], r.Start)
	putUint(b[128:], r.End)
	putUint(b[160:], r.GPUms)
	putUint(b[192:], r.CPUms)
	putUint(b[224:], uint64(r.Cumulative))
	copy(b[256:], r.PrevHash[:])
	if r.Final {
		b[319] = 1
	}
	return crypto.Keccak256Hash(b[:])
}

// Digest is what the provider signs and what the next receipt's PrevHash holds.
func (r *UsageReceipt) Digest(d Domain) common.Hash { return d.digest(r.StructHash()) }

// SignedReceipt is a receipt with the provider's signature.
type SignedReceipt struct {
	UsageReceipt
	Sig Signature `json:"sig"`
}

// Voucher promises the payee Cumulative token units in total from the
// channel; the channel's signer signs it. Only the highest one counts.
type Voucher struct {
	ChannelID  common.Hash `json:"channel_id"`
	Cumulative Amount      `json:"cumulative"`
}

// StructHash is the EIP-712 hashStruct of v.
func (v *Voucher) StructHash() common.Hash {
	var b [3 * 32]byte
	copy(b[0:], voucherTypeHash[:])
	copy(b[32:], v.ChannelID[:])
	putUint(b[64:], uint64(v.Cumulative))
	return crypto.Keccak256Hash(b[:])
}

// SignedVoucher is a voucher as it travels: it names its domain so that a
// voucher for another chain or contract is refused by name, not just by a
// failing signature.
type SignedVoucher struct {
	Domain Domain `json:"domain"`
	Voucher
	Sig Signature `json:"sig"`
}

// Digest is the EIP-712 digest the signer signed.
func (v *SignedVoucher) Digest() common.Hash { return v.Domain.digest(v.StructHash()) }

// SignVoucher signs v under d with key.
func SignVoucher(d Domain, v Voucher, key *Key) (SignedVoucher, error) {
	sv := SignedVoucher{Domain: d, Voucher: v}
	sig, err := key.sign(sv.Digest())
	if err != nil {
		return SignedVoucher{}, err
	}
	sv.Sig = sig
	return sv, nil
}

// SignReceipt signs r under d with the provider's key.
func SignReceipt(d Domain, r UsageReceipt, key *Key) (SignedReceipt, error) {
	sig, err := key.sign(r.Digest(d))
	if err != nil {
		return SignedReceipt{}, err
	}
	return SignedReceipt{UsageReceipt: r, Sig: sig}, nil
}

// SignAgreement returns a signature by key over a's digest under d.
func SignAgreement(d Domain, a *Agreement, key *Key) (Signature, error) {
	return key.sign(a.ID(d))
}

func putUint(dst []byte, v uint64) {
	binary.BigEndian.PutUint64(dst[24:32], v)
}
