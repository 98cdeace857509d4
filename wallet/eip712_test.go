package wallet

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// TestDigestsMatchGethTypedData checks the hand-written hashStruct against
// go-ethereum's generic EIP-712 encoder, which wallets also use.
func TestDigestsMatchGethTypedData(t *testing.T) {
	f := newFixture(t)
	st := ReceiptState{}
	r1 := f.receipt(t, st, false)
	st = st.Advance(f.domain, &r1.UsageReceipt)
	r2 := f.receipt(t, st, true)
	a := f.ag.Agreement
	dom := apitypes.TypedDataDomain{
		Name: DomainName, Version: DomainVersion,
		ChainId:           math.NewHexOrDecimal256(int64(f.domain.ChainID)),
		VerifyingContract: f.domain.Contract.Hex(),
	}
	types := apitypes.Types{
		"EIP712Domain": {{Name: "name", Type: "string"}, {Name: "version", Type: "string"}, {Name: "chainId", Type: "uint256"}, {Name: "verifyingContract", Type: "address"}},
		"Agreement": {{Name: "jobHash", Type: "bytes32"}, {Name: "requester", Type: "address"}, {Name: "payee", Type: "address"}, {Name: "channelId", Type: "bytes32"},
			{Name: "gpus", Type: "uint64"}, {Name: "cpuMillis", Type: "uint64"}, {Name: "pricePerGpuSecond", Type: "uint256"}, {Name: "pricePerCpuSecond", Type: "uint256"},
			{Name: "intervalSeconds", Type: "uint64"}, {Name: "maxDurationSeconds", Type: "uint64"}, {Name: "startsAt", Type: "uint64"}},
		"UsageReceipt": {{Name: "agreementId", Type: "bytes32"}, {Name: "seq", Type: "uint64"}, {Name: "start", Type: "uint64"}, {Name: "end", Type: "uint64"},
			{Name: "gpuMs", Type: "uint64"}, {Name: "cpuMs", Type: "uint64"}, {Name: "cumulative", Type: "uint256"}, {Name: "prevHash", Type: "bytes32"}, {Name: "final", Type: "bool"}},
		"Voucher": {{Name: "channelId", Type: "bytes32"}, {Name: "cumulative", Type: "uint256"}},
	}
	u := func(v uint64) *math.HexOrDecimal256 { return (*math.HexOrDecimal256)(new(big.Int).SetUint64(v)) }
	cases := []struct {
		name    string
		primary string
		msg     apitypes.TypedDataMessage
		want    []byte
	}{
		{"agreement", "Agreement", apitypes.TypedDataMessage{
			"jobHash": a.JobHash.Hex(), "requester": a.Requester.Hex(), "payee": a.Payee.Hex(), "channelId": a.ChannelID.Hex(),
			"gpus": u(a.GPUs), "cpuMillis": u(a.CPUMillis), "pricePerGpuSecond": u(uint64(a.PricePerGPUSecond)), "pricePerCpuSecond": u(uint64(a.PricePerCPUSecond)),
			"intervalSeconds": u(a.IntervalSeconds), "maxDurationSeconds": u(a.MaxDurationSeconds), "startsAt": u(a.StartsAt),
		}, a.ID(f.domain).Bytes()},
		{"final receipt", "UsageReceipt", apitypes.TypedDataMessage{
			"agreementId": r2.AgreementID.Hex(), "seq": u(r2.Seq), "start": u(r2.Start), "end": u(r2.End), "gpuMs": u(r2.GPUms), "cpuMs": u(r2.CPUms),
			"cumulative": u(uint64(r2.Cumulative)), "prevHash": r2.PrevHash.Hex(), "final": true,
		}, r2.Digest(f.domain).Bytes()},
		{"voucher", "Voucher", apitypes.TypedDataMessage{"channelId": f.ch.ID.Hex(), "cumulative": u(123456)},
			func() []byte { v := f.voucher(t, 123456); return v.Digest().Bytes() }()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			td := apitypes.TypedData{Types: types, PrimaryType: c.primary, Domain: dom, Message: c.msg}
			got, _, err := apitypes.TypedDataAndHash(td)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.want) {
				t.Fatalf("digest %s, geth computes %s", hexutil.Encode(c.want), hexutil.Encode(got))
			}
		})
	}
}

func TestSignatureRules(t *testing.T) {
	f := newFixture(t)
	v := f.voucher(t, 5)
	d := v.Digest()
	highS := func() Signature {
		s := append(Signature(nil), v.Sig...)
		sv := new(big.Int).SetBytes(s[32:64])
		sv.Sub(secp256k1N, sv).FillBytes(s[32:64])
		s[64] ^= 1 // 27 <-> 28: the same signer, malleated
		return s
	}
	cases := []struct {
		name string
		sig  Signature
		want error
	}{
		{"short", v.Sig[:64], ErrSigLength},
		{"long", append(append(Signature(nil), v.Sig...), 0), ErrSigLength},
		{"high s", highS(), ErrSigHighS},
		{"v not 27 or 28", func() Signature { s := append(Signature(nil), v.Sig...); s[64] -= 27; return s }(), ErrSigV},
		{"zero r", func() Signature { s := append(Signature(nil), v.Sig...); copy(s[:32], make([]byte, 32)); return s }(), ErrSigInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Recover(d, c.sig); !errorsIs(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		got, err := Recover(d, v.Sig)
		if err != nil || got != f.requester.Address() {
			t.Fatalf("recovered %s, %v; want %s", got.Hex(), err, f.requester.Address().Hex())
		}
	})
}
