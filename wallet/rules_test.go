package wallet

import (
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestReceiptRules(t *testing.T) {
	f := newFixture(t)
	// Accept two receipts first so the cases start from a real history.
	st := ReceiptState{}
	for i := 0; i < 2; i++ {
		r := f.receipt(t, st, false)
		var err error
		if st, err = CheckReceipt(&f.ag, st, &r, f.now()); err != nil {
			t.Fatalf("valid receipt %d refused: %v", i+1, err)
		}
	}
	good := f.receipt(t, st, false)
	resign := func(r UsageReceipt) SignedReceipt {
		sr, err := SignReceipt(f.domain, r, f.provider)
		if err != nil {
			t.Fatal(err)
		}
		return sr
	}
	mod := func(fn func(*UsageReceipt)) SignedReceipt {
		r := good.UsageReceipt
		fn(&r)
		return resign(r)
	}
	// repriced recomputes the cumulative amount for changed counters.
	repriced := func(fn func(*UsageReceipt)) SignedReceipt {
		r := good.UsageReceipt
		fn(&r)
		cum, _ := f.ag.Cost(st.GPUms+r.GPUms, st.CPUms+r.CPUms)
		r.Cumulative = cum
		return resign(r)
	}
	prevGood := func() SignedReceipt { // the receipt already accepted as seq 2
		s1 := ReceiptState{}
		r1 := f.receipt(t, s1, false)
		s1 = s1.Advance(f.domain, &r1.UsageReceipt)
		return f.receipt(t, s1, false)
	}()
	cases := []struct {
		name string
		r    SignedReceipt
		now  time.Time
		want error
	}{
		{"seq skips ahead", mod(func(r *UsageReceipt) { r.Seq += 1 }), f.now(), ErrSeq},
		{"seq repeats with other content", mod(func(r *UsageReceipt) { r.Seq = 2 }), f.now(), ErrSeq},
		{"replayed receipt", prevGood, f.now(), ErrReplay},
		{"prev hash does not chain", mod(func(r *UsageReceipt) { r.PrevHash = common.Hash{1} }), f.now(), ErrChain},
		{"cumulative not increasing", repriced(func(r *UsageReceipt) { r.GPUms, r.CPUms = 0, 0 }), f.now(), ErrNotIncreasing},
		{"gpu counters exceed wall clock", repriced(func(r *UsageReceipt) { r.GPUms = (r.End-r.Start)*1000 + 1 }), f.now(), ErrCounters},
		{"cpu counters exceed granted cores", repriced(func(r *UsageReceipt) { r.CPUms = (r.End-r.Start)*f.ag.CPUMillis + 1 }), f.now(), ErrCounters},
		{"price does not match agreement", mod(func(r *UsageReceipt) { r.Cumulative += 1 }), f.now(), ErrPrice},
		{"interval ends before it starts", mod(func(r *UsageReceipt) { r.End = r.Start }), f.now(), ErrInterval},
		{"interval overlaps previous", mod(func(r *UsageReceipt) { r.Start-- }), f.now(), ErrInterval},
		{"interval in the future", good, f.t0, ErrInterval},
		{"past max duration", mod(func(r *UsageReceipt) { r.End = f.ag.StartsAt + f.ag.MaxDurationSeconds + 1 }), f.now().Add(time.Hour), ErrInterval},
		{"other agreement", mod(func(r *UsageReceipt) { r.AgreementID = common.Hash{2} }), f.now(), ErrWrongAgreement},
		{"signed by requester", func() SignedReceipt {
			sr, _ := SignReceipt(f.domain, good.UsageReceipt, f.requester)
			return sr
		}(), f.now(), ErrWrongSigner},
		{"signed for another chain", func() SignedReceipt {
			sr, _ := SignReceipt(Domain{ChainID: 1, Contract: f.domain.Contract}, good.UsageReceipt, f.provider)
			return sr
		}(), f.now(), ErrWrongSigner},
		{"truncated signature", func() SignedReceipt { r := good; r.Sig = r.Sig[:64]; return r }(), f.now(), ErrSigLength},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := CheckReceipt(&f.ag, st, &c.r, c.now)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if got != st {
				t.Fatal("state changed on a refused receipt")
			}
		})
	}
	t.Run("valid next receipt", func(t *testing.T) {
		if _, err := CheckReceipt(&f.ag, st, &good, f.now()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestReceiptAfterFinal(t *testing.T) {
	f := newFixture(t)
	st := ReceiptState{}
	r1 := f.receipt(t, st, false)
	st, _ = CheckReceipt(&f.ag, st, &r1, f.now())
	final := f.receipt(t, st, true)
	stFinal, err := CheckReceipt(&f.ag, st, &final, f.now())
	if err != nil || !stFinal.Final {
		t.Fatalf("final receipt: %v, final=%v", err, stFinal.Final)
	}
	other := func(final bool) SignedReceipt {
		r := final2(f, t, st, final)
		return r
	}
	cases := []struct {
		name string
		r    SignedReceipt
		want error
	}{
		{"receipt after final", f.receipt(t, stFinal, false), ErrAfterFinal},
		{"second different final", other(true), ErrConflictingFinal},
		{"same final replayed", final, ErrReplay},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := CheckReceipt(&f.ag, stFinal, &c.r, f.now()); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// final2 is a different final receipt for the same seq: half the usage.
func final2(f *fixture, t *testing.T, st ReceiptState, final bool) SignedReceipt {
	r, err := NextReceipt(&f.ag, st, st.LastEnd, st.LastEnd+5, 5000, 0, final)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := SignReceipt(f.domain, r, f.provider)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

func TestVoucherRules(t *testing.T) {
	f := newFixture(t)
	const best = 1000
	other, _ := GenerateKey()
	signed := func(d Domain, ch common.Hash, cum Amount, k *Key) SignedVoucher {
		v, err := SignVoucher(d, Voucher{ChannelID: ch, Cumulative: cum}, k)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		v    SignedVoucher
		want error
	}{
		{"another channel", signed(f.domain, common.Hash{9}, 2000, f.requester), ErrWrongChannel},
		{"another chain", signed(Domain{ChainID: 1, Contract: f.domain.Contract}, f.ch.ID, 2000, f.requester), ErrWrongChain},
		{"another contract", signed(Domain{ChainID: f.domain.ChainID, Contract: common.Address{7}}, f.ch.ID, 2000, f.requester), ErrWrongContract},
		{"wrong signer", signed(f.domain, f.ch.ID, 2000, other), ErrWrongSigner},
		{"domain relabelled after signing", func() SignedVoucher {
			v := signed(Domain{ChainID: 1}, f.ch.ID, 2000, f.requester)
			v.Domain = f.domain
			return v
		}(), ErrWrongSigner},
		{"above deposit", signed(f.domain, f.ch.ID, f.ch.Deposit+1, f.requester), ErrAboveDeposit},
		{"replayed best", signed(f.domain, f.ch.ID, best, f.requester), ErrReplay},
		{"older voucher", signed(f.domain, f.ch.ID, best-1, f.requester), ErrReplay},
		{"wrong length signature", func() SignedVoucher { v := signed(f.domain, f.ch.ID, 2000, f.requester); v.Sig = v.Sig[:10]; return v }(), ErrSigLength},
		{"negative amount", signed(f.domain, f.ch.ID, -1, f.requester), ErrAmount},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := CheckVoucher(f.ch, best, &c.v); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		v := signed(f.domain, f.ch.ID, f.ch.Deposit, f.requester)
		if err := CheckVoucher(f.ch, best, &v); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAgreementRules(t *testing.T) {
	f := newFixture(t)
	if err := CheckAgreement(&f.ag, f.ch); err != nil {
		t.Fatalf("valid agreement refused: %v", err)
	}
	onlyRequester := f.ag
	onlyRequester.PayeeSig = nil
	otherPayee := f.ag
	otherPayee.Payee = common.Address{5}
	cases := []struct {
		name string
		sa   SignedAgreement
		want error
	}{
		{"signed by requester only", onlyRequester, ErrSigLength},
		{"payee differs from channel", otherPayee, ErrAgreement},
		{"another channel", func() SignedAgreement { a := f.ag; a.ChannelID = common.Hash{3}; return a }(), ErrWrongChannel},
		{"tampered price", func() SignedAgreement { a := f.ag; a.PricePerGPUSecond++; return a }(), ErrWrongSigner},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := CheckAgreement(&c.sa, f.ch); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestCreditDecide(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cases := []struct {
		name string
		c    Credit
		want Action
	}{
		{"fully paid", Credit{Billed: 300, Paid: 300, PerInterval: 100}, Continue},
		{"two intervals unpaid", Credit{Billed: 300, Paid: 100, PerInterval: 100}, Continue},
		{"three intervals unpaid", Credit{Billed: 400, Paid: 100, PerInterval: 100}, Pause},
		{"over limit within timeout", Credit{Billed: 400, Paid: 100, PerInterval: 100, OverSince: now.Add(-10 * time.Second)}, Pause},
		{"over limit past timeout", Credit{Billed: 400, Paid: 100, PerInterval: 100, OverSince: now.Add(-31 * time.Second)}, End},
		{"custom limit of one interval", Credit{Billed: 250, Paid: 100, PerInterval: 100, Intervals: 1}, Pause},
		{"custom timeout", Credit{Billed: 400, PerInterval: 100, OverSince: now.Add(-2 * time.Second), Timeout: time.Second}, End},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.c.Decide(now)
			if d.Action != c.want || d.Reason == "" {
				t.Fatalf("got %v (%q), want %v", d.Action, d.Reason, c.want)
			}
		})
	}
}

func TestAmountParseFormat(t *testing.T) {
	cases := []struct {
		in   string
		want Amount
		err  bool
	}{
		{"0", 0, false}, {"1", 1_000_000, false}, {"0.123456", 123456, false}, {"12.5", 12_500_000, false},
		{".5", 500_000, false}, {"1.", 0, true}, {"1.1234567", 0, true}, {"-1", 0, true}, {"1e3", 0, true},
		{"", 0, true}, {"1,000", 0, true}, {"99999999999999999999", 0, true}, {".", 0, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseAmount(c.in)
			if c.err {
				if !errors.Is(err, ErrAmount) {
					t.Fatalf("ParseAmount(%q) = %v, %v; want ErrAmount", c.in, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("ParseAmount(%q) = %d, %v; want %d", c.in, got, err, c.want)
			}
			back, err := ParseAmount(got.String())
			if err != nil || back != got {
				t.Fatalf("round trip %q -> %s -> %d", c.in, got, back)
			}
		})
	}
	if s := Amount(123456).String(); s != "0.123456" {
		t.Fatalf("format: %s", s)
	}
	if s := Amount(-1_500_000).String(); s != "-1.500000" {
		t.Fatalf("format negative: %s", s)
	}
}
