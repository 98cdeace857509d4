package wallet

import (
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// fixture is a requester, a provider and a signed agreement on one channel.
type fixture struct {
	requester, provider *Key
	domain              Domain
	ch                  ChannelInfo
	ag                  SignedAgreement
	t0                  time.Time
	clock               time.Time // when set, what now returns
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	req, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	prov, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureKeys(t, req, prov, 3600)
}

// fixedFixture is the same in every process: the crash test's parent and
// child agree on keys and agreement. Its agreement runs for years.
func fixedFixture(t testing.TB) *fixture {
	req, _ := crypto.ToECDSA(crypto.Keccak256([]byte("requester")))
	prov, _ := crypto.ToECDSA(crypto.Keccak256([]byte("provider")))
	f := newFixtureKeys(t, NewKey(req), NewKey(prov), 1<<32)
	f.clock = f.t0.Add(1 << 32 * time.Second)
	return f
}

func newFixtureKeys(t testing.TB, req, prov *Key, maxDuration uint64) *fixture {
	t.Helper()
	var err error
	d := Domain{ChainID: 31337, Contract: common.HexToAddress("0x00000000000000000000000000000000005ba4e0")}
	ch := ChannelInfo{
		ID: crypto.Keccak256Hash([]byte("channel")), Domain: d,
		Payer: req.Address(), Payee: prov.Address(), Signer: req.Address(),
		Deposit: 100_000_000,
	}
	t0 := time.Unix(1_800_000_000, 0)
	a := Agreement{
		JobHash: crypto.Keccak256Hash([]byte("job")), Requester: req.Address(), Payee: prov.Address(),
		ChannelID: ch.ID, GPUs: 1, CPUMillis: 2000,
		PricePerGPUSecond: 100, PricePerCPUSecond: 10, // 0.0001/GPU-s, 0.00001/core-s
		IntervalSeconds: 10, MaxDurationSeconds: maxDuration, StartsAt: uint64(t0.Unix()),
	}
	sa := SignedAgreement{Agreement: a, Domain: d}
	if sa.RequesterSig, err = SignAgreement(d, &a, req); err != nil {
		t.Fatal(err)
	}
	if sa.PayeeSig, err = SignAgreement(d, &a, prov); err != nil {
		t.Fatal(err)
	}
	return &fixture{requester: req, provider: prov, domain: d, ch: ch, ag: sa, t0: t0}
}

// receipt signs the next full-usage receipt of interval i (from 0) after st.
func (f *fixture) receipt(t testing.TB, st ReceiptState, final bool) SignedReceipt {
	t.Helper()
	start := uint64(f.t0.Unix())
	if st.LastSeq > 0 {
		start = st.LastEnd
	}
	end := start + f.ag.IntervalSeconds
	r, err := NextReceipt(&f.ag, st, start, end, f.ag.IntervalSeconds*1000*f.ag.GPUs, f.ag.IntervalSeconds*f.ag.CPUMillis, final)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := SignReceipt(f.domain, r, f.provider)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

func (f *fixture) voucher(t testing.TB, cum Amount) SignedVoucher {
	t.Helper()
	v, err := SignVoucher(f.domain, Voucher{ChannelID: f.ch.ID, Cumulative: cum}, f.requester)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// now is a clock well after a few intervals.
func (f *fixture) now() time.Time {
	if !f.clock.IsZero() {
		return f.clock
	}
	return f.t0.Add(time.Hour)
}
