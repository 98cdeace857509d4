package market

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// twoIntervals is a stand-in for the wallet's credit rule: continue while
// unpaid ≤ 2 intervals, pause beyond, end after 30 s over.
type twoIntervals struct{}

func (twoIntervals) Check(c CreditState, now time.Time) (CreditAction, string) {
	switch {
	case c.Billed-c.Paid <= 2*c.PerInterval:
		return CreditContinue, "within"
	case c.OverSince.IsZero() || now.Sub(c.OverSince) < 30*time.Second:
		return CreditPause, "over"
	}
	return CreditEnd, "unpaid too long"
}

var t0 = time.Unix(1_700_000_000, 0)

// started runs proposal → quote → agreement between a fresh pair.
func started(t *testing.T) (ProviderSession, RequesterSession) {
	t.Helper()
	spec := validSpec()
	spec.MaxPrice = 10_000
	p := NewProviderSession(bigBox(), Policy{Price: Price{PerGPUSecond: 500, PerCPUSecond: 100}}, twoIntervals{})
	r, prop := NewRequesterSession(jobID, spec, payer)
	p, st := must3[ProviderSession](t)(p.Step(prop, t0))
	r, _ = must3[RequesterSession](t)(r.Step(st.Send[0], t0))
	r, st2 := must3[RequesterSession](t)(r.Step(Accept{ChannelID: channel, Deposit: r.Quote.MaxCost, Payee: payee, StartsAt: uint64(t0.Unix())}, t0))
	ag := st2.Send[0].(*AgreementMsg)
	ag.RequesterSig = sig // the wallet signs here
	p, st = must3[ProviderSession](t)(p.Step(ag, t0))
	if !slices.Equal(st.Do, []Action{ActStart}) {
		t.Fatalf("provider actions %v", st.Do)
	}
	counter := st.Send[0].(*AgreementMsg)
	counter.ProviderSig = sig
	r, _ = must3[RequesterSession](t)(r.Step(counter, t0))
	if p.State != PRunning || r.State != RRunning {
		t.Fatalf("states %s / %s", p.State, r.State)
	}
	return p, r
}

func must3[S any](t *testing.T) func(S, Step, error) (S, Step) {
	return func(s S, st Step, err error) (S, Step) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s, st
	}
}

// interval meters n seconds of full use starting at second start.
func interval(start, n uint64) Usage {
	b := uint64(t0.Unix())
	return Usage{Start: b + start, End: b + start + n, GPUms: n * 1000, CPUms: n * 2000}
}

func TestSessionsHappyPath(t *testing.T) {
	p, r := started(t)
	for i := range uint64(3) {
		var st Step
		p, st = must3[ProviderSession](t)(p.Step(interval(i*10, 10), t0))
		rc := st.Send[0].(*Receipt)
		rc.Sig = sig
		r, st = must3[RequesterSession](t)(r.Step(rc, t0))
		p, _ = must3[ProviderSession](t)(p.Step(st.Send[0], t0))
	}
	// 30 s × (500 + 2 cores × 100) = 21000
	if p.Billed != 21_000 || p.Paid != 21_000 || r.Billed != 21_000 {
		t.Fatalf("billed %d paid %d requester %d", p.Billed, p.Paid, r.Billed)
	}
	p, st := must3[ProviderSession](t)(p.Step(Exited{Final: interval(30, 4), ExitCode: 0, Outputs: []Output{{Path: "/output/x", Digest: digestA}}}, t0))
	if len(st.Send) != 2 || !st.Send[0].(*Receipt).Final {
		t.Fatalf("on exit sent %v", st.Send)
	}
	r, vst := must3[RequesterSession](t)(r.Step(st.Send[0], t0))
	r, _ = must3[RequesterSession](t)(r.Step(st.Send[1], t0))
	p, _ = must3[ProviderSession](t)(p.Step(vst.Send[0], t0))
	if p.State != PClosed || p.Reason != "paid in full" || r.State != RDone || r.Result.Outputs[0].Digest != digestA {
		t.Errorf("end: provider %s (%s), requester %s", p.State, p.Reason, r.State)
	}
	if p.Paid != 23_800 {
		t.Errorf("paid %d, want 23800", p.Paid)
	}
}

func TestRequesterRejects(t *testing.T) {
	_, running := started(t)
	b := uint64(t0.Unix())
	good := func() *Receipt {
		return &Receipt{JobID: jobID, Seq: 1, Start: b, End: b + 10, GPUms: 10_000, CPUms: 20_000, Cumulative: 7000}
	}
	tests := []struct {
		name string
		in   any
	}{
		{"skipped seq", func() any { r := good(); r.Seq = 2; return r }()},
		{"overcharge", func() any { r := good(); r.Cumulative = 7001; return r }()},
		{"too many gpu ms", func() any { r := good(); r.GPUms = 10_001; return r }()},
		{"interval too long", func() any { r := good(); r.End = b + 25; return r }()},
		{"starts before agreement", func() any { r := good(); r.Start, r.End = b-5, b+5; return r }()},
		{"other job", func() any { r := good(); r.JobID = "ffffffffffffffffffffffffffffffff"; return r }()},
		{"result before final receipt", &Result{JobID: jobID}},
		{"quote while running", &QuoteMsg{JobID: jobID}},
		{"accept while running", Accept{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, st, err := running.Step(tc.in, t0)
			if !errors.Is(err, ErrOutOfOrder) || next.State != running.State || len(st.Send) != 0 {
				t.Errorf("err = %v, state %s, sent %v", err, next.State, st.Send)
			}
		})
	}
	// A replayed receipt is refused once the original was accepted.
	r, _ := must3[RequesterSession](t)(running.Step(good(), t0))
	if _, _, err := r.Step(good(), t0); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("replayed receipt: err = %v", err)
	}
}

func TestProviderRejects(t *testing.T) {
	running, _ := started(t)
	running, _ = must3[ProviderSession](t)(running.Step(interval(0, 10), t0))
	tests := []struct {
		name string
		in   any
	}{
		{"second proposal", &Proposal{JobID: jobID}},
		{"agreement again", &AgreementMsg{JobID: jobID}},
		{"voucher above billed", &Voucher{JobID: jobID, ChannelID: channel, Cumulative: 7001}},
		{"voucher other channel", &Voucher{JobID: jobID, ChannelID: Hash{4}, Cumulative: 1}},
		{"usage back in time", interval(5, 10)},
		{"usage beyond grant", Usage{Start: uint64(t0.Unix()) + 10, End: uint64(t0.Unix()) + 20, GPUms: 20_000}},
		{"result from peer", &Result{JobID: jobID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, _, err := running.Step(tc.in, t0)
			if !errors.Is(err, ErrOutOfOrder) || next.State != running.State || next.Paid != running.Paid {
				t.Errorf("err = %v, state %s", err, next.State)
			}
		})
	}
	p, _ := must3[ProviderSession](t)(running.Step(&Voucher{JobID: jobID, ChannelID: channel, Cumulative: 7000}, t0))
	if _, _, err := p.Step(&Voucher{JobID: jobID, ChannelID: channel, Cumulative: 7000}, t0); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("replayed voucher: err = %v", err)
	}
}

func TestProviderQuoteRefusalAndExpiry(t *testing.T) {
	spec := validSpec()
	spec.MaxPrice = 1
	p := NewProviderSession(bigBox(), Policy{Price: Price{PerGPUSecond: 500}}, twoIntervals{})
	p, st := must3[ProviderSession](t)(p.Step(&Proposal{JobID: jobID, Spec: *spec, Requester: payer}, t0))
	if ref, ok := st.Send[0].(*RefusalMsg); !ok || ref.Code != RefusePriceTooLow || p.State != PClosed {
		t.Fatalf("sent %v, state %s", st.Send, p.State)
	}
	spec.MaxPrice = 10_000
	p = NewProviderSession(bigBox(), Policy{Price: Price{PerGPUSecond: 500}}, twoIntervals{})
	p, st = must3[ProviderSession](t)(p.Step(&Proposal{JobID: jobID, Spec: *spec, Requester: payer}, t0))
	q := st.Send[0].(*QuoteMsg)
	late := t0.Add(DefaultQuoteTTL + time.Second)
	ag := &AgreementMsg{JobID: jobID, JobHash: q.JobHash, Requester: payer, Payee: payee, ChannelID: channel, Deposit: q.MaxCost, GPUs: 1, CPUs: 2000,
		Price: q.Price, IntervalSeconds: q.IntervalSeconds, MaxDurationSeconds: q.MaxDurationSeconds, StartsAt: uint64(late.Unix()), RequesterSig: sig}
	cheap := *ag
	cheap.Price.PerGPUSecond = 1
	if _, st, _ := p.Step(&cheap, t0); st.Send[0].(*RefusalMsg).Code != RefuseBadAgreement {
		t.Errorf("changed price: sent %v", st.Send)
	}
	if _, st, _ := p.Step(ag, late); st.Send[0].(*RefusalMsg).Code != RefuseQuoteExpired {
		t.Errorf("late agreement: sent %v", st.Send)
	}
}

func TestProviderCreditLimit(t *testing.T) {
	p, _ := started(t)
	var st Step
	// Three unpaid intervals (7000 each): over the two-interval limit.
	for i := range uint64(3) {
		p, st = must3[ProviderSession](t)(p.Step(interval(i*10, 10), t0))
	}
	if p.State != PFrozenUnpaid || !slices.Equal(st.Do, []Action{ActPause}) {
		t.Fatalf("after 3 unpaid intervals: %s, do %v", p.State, st.Do)
	}
	// Paying resumes.
	p2, st := must3[ProviderSession](t)(p.Step(&Voucher{JobID: jobID, ChannelID: channel, Cumulative: 21_000}, t0.Add(time.Second)))
	if p2.State != PRunning || !slices.Equal(st.Do, []Action{ActResume}) {
		t.Errorf("after paying: %s, do %v", p2.State, st.Do)
	}
	// Not paying ends the job, then the final receipt and the result go out.
	p3, st := must3[ProviderSession](t)(p.Step(Tick{}, t0.Add(31*time.Second)))
	if p3.State != PEnding || !slices.Equal(st.Do, []Action{ActKill}) {
		t.Fatalf("after the timeout: %s, do %v", p3.State, st.Do)
	}
	p3, st = must3[ProviderSession](t)(p3.Step(Exited{Final: interval(30, 1), ExitCode: -1}, t0.Add(32*time.Second)))
	if res := st.Send[1].(*Result); res.Error != ResultCreditLimit || p3.State != PFinishing {
		t.Errorf("result %+v, state %s", res, p3.State)
	}
	p3, _ = must3[ProviderSession](t)(p3.Step(Tick{}, t0.Add(32*time.Second+FinalVoucherWait)))
	if p3.State != PClosed {
		t.Errorf("state %s after the final voucher wait", p3.State)
	}
}

func TestRequesterPreemptionAndCancel(t *testing.T) {
	_, r := started(t)
	r, _ = must3[RequesterSession](t)(r.Step(&Preemption{JobID: jobID, Reason: PreemptUserReturned, Frozen: true, GraceSeconds: 30}, t0))
	if r.Preempted == nil || r.State != RRunning {
		t.Errorf("preempted %v, state %s", r.Preempted, r.State)
	}
	r, st := must3[RequesterSession](t)(r.Step(CancelJob{Reason: "elsewhere"}, t0))
	if c, ok := st.Send[0].(*Cancel); !ok || c.Reason != "elsewhere" {
		t.Errorf("sent %v", st.Send)
	}
}

// TestAgreementDeposit: the provider refuses an agreement whose deposit
// does not cover the quoted maximum cost; the requester will not offer
// one, and refuses a countersignature that changes the deposit.
func TestAgreementDeposit(t *testing.T) {
	spec := validSpec()
	spec.MaxPrice = 10_000
	p := NewProviderSession(bigBox(), Policy{Price: Price{PerGPUSecond: 500, PerCPUSecond: 100}}, twoIntervals{})
	r, prop := NewRequesterSession(jobID, spec, payer)
	p, st := must3[ProviderSession](t)(p.Step(prop, t0))
	r, _ = must3[RequesterSession](t)(r.Step(st.Send[0], t0))
	maxCost := r.Quote.MaxCost
	if maxCost == 0 {
		t.Fatal("quote without a maximum cost")
	}
	if _, _, err := r.Step(Accept{ChannelID: channel, Deposit: maxCost - 1, Payee: payee, StartsAt: uint64(t0.Unix())}, t0); err == nil || !strings.Contains(err.Error(), "deposit") {
		t.Errorf("requester accepted a deposit below the maximum cost: %v", err)
	}
	r, st = must3[RequesterSession](t)(r.Step(Accept{ChannelID: channel, Deposit: maxCost, Payee: payee, StartsAt: uint64(t0.Unix())}, t0))
	ag := st.Send[0].(*AgreementMsg)
	ag.RequesterSig = sig
	if ag.Deposit != maxCost {
		t.Fatalf("agreement deposit %d, want %d", ag.Deposit, maxCost)
	}

	short := *ag
	short.Deposit = maxCost - 1
	p2, st, err := p.Step(&short, t0)
	if err != nil {
		t.Fatal(err)
	}
	if ref, ok := st.Send[0].(*RefusalMsg); !ok || ref.Code != RefuseBadAgreement || !strings.Contains(ref.Message, "deposit") || p2.State != PClosed || len(st.Do) != 0 {
		t.Fatalf("short deposit: sent %v, do %v, state %s", st.Send, st.Do, p2.State)
	}

	big := *ag
	big.Deposit = 10 * maxCost // more than the job needs is the requester's business
	p3, st := must3[ProviderSession](t)(p.Step(&big, t0))
	if p3.State != PRunning || p3.Terms.Deposit != 10*maxCost {
		t.Fatalf("ample deposit: state %s, terms %+v", p3.State, p3.Terms)
	}
	counter := st.Send[0].(*AgreementMsg)
	counter.ProviderSig = sig
	counter.Deposit = maxCost + 1
	if _, _, err := r.Step(counter, t0); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("countersignature with another deposit: %v", err)
	}
}
