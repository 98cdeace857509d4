package market

import (
	"fmt"
	"time"
)

// RequesterState is where a requester session stands.
type RequesterState int

// Requester states.
const (
	RProposed  RequesterState = iota // proposal sent, waiting for a quote
	RQuoted                          // quote checked; Accept or Decline next
	RAgreeing                        // agreement sent, waiting for the countersignature
	RRunning                         // receipts and logs flowing
	RFinishing                       // final receipt paid, waiting for the result
	RDone                            // result received
	RClosed                          // refused, declined or failed; see Reason
)

var requesterStates = [...]string{"proposed", "quoted", "agreeing", "running", "finishing", "done", "closed"}

func (s RequesterState) String() string { return requesterStates[s] }

// Local events of a requester session.
type (
	// Accept agrees to the quote on a payment channel.
	Accept struct {
		ChannelID Hash
		Deposit   uint64 // what the channel holds; at least the quote's MaxCost
		Payee     Address
		StartsAt  uint64 // unix seconds
		// VoucherBase is what the channel's vouchers claim already (a
		// reused channel); zero for a fresh one.
		VoucherBase uint64
	}
	// Decline turns the quote down (another provider was chosen).
	Decline struct{}
	// CancelJob asks the provider to stop the job.
	CancelJob struct{ Reason string }
)

// RequesterSession is the requester's side of one job with one provider,
// a value: Step returns the next one.
type RequesterSession struct {
	State     RequesterState
	Reason    string
	Refusal   *Refusal // the provider's, if it refused
	JobID     JobID
	Spec      *JobSpec
	Requester Address
	Quote     Quote
	Terms     *AgreementMsg

	Seq          uint64 // last receipt accepted
	LastEnd      uint64
	GPUms, CPUms uint64 // cumulative
	Billed       uint64 // cumulative of the last receipt, all vouchered
	LogSeq       uint64
	Preempted    *Preemption
	Result       *Result
}

// NewRequesterSession starts a session for a validated spec and returns
// the proposal to send.
func NewRequesterSession(id JobID, spec *JobSpec, requester Address) (RequesterSession, *Proposal) {
	s := RequesterSession{State: RProposed, JobID: id, Spec: spec, Requester: requester}
	return s, &Proposal{JobID: id, Spec: *spec, Requester: requester}
}

// Step applies one input (a peer Message or a local event) at now.
// Outgoing AgreementMsg and Voucher are unsigned: the glue has the wallet
// sign and record them before sending.
func (s RequesterSession) Step(in any, now time.Time) (RequesterSession, Step, error) {
	if m, ok := in.(Message); ok && msgJobID(m) != s.JobID {
		return s, Step{}, fmt.Errorf("%w: message for job %s in session %s", ErrOutOfOrder, msgJobID(m), s.JobID)
	}
	switch m := in.(type) {
	case *QuoteMsg:
		if s.State != RProposed {
			break
		}
		if err := s.checkQuote(&m.Quote, now); err != nil {
			s.State, s.Reason = RClosed, err.Error()
			return s, Step{}, err
		}
		s.State, s.Quote = RQuoted, m.Quote
		return s, Step{}, nil
	case *RefusalMsg:
		if s.State != RProposed && s.State != RAgreeing {
			break
		}
		ref := m.Refusal
		s.State, s.Refusal, s.Reason = RClosed, &ref, ref.Error()
		return s, Step{}, nil
	case Accept:
		if s.State != RQuoted {
			break
		}
		if m.Deposit < s.Quote.MaxCost {
			return s, Step{}, fmt.Errorf("deposit %d does not cover the quoted maximum cost %d: raise the deposit or leave it to the default", m.Deposit, s.Quote.MaxCost)
		}
		r := s.Spec.Resources
		t := &AgreementMsg{JobID: s.JobID, JobHash: s.Quote.JobHash, Requester: s.Requester, Payee: m.Payee,
			ChannelID: m.ChannelID, Deposit: m.Deposit, GPUs: r.GPUs, CPUs: r.CPUs, Price: s.Quote.Price,
			IntervalSeconds: s.Quote.IntervalSeconds, MaxDurationSeconds: s.Quote.MaxDurationSeconds, StartsAt: m.StartsAt,
			VoucherBase: m.VoucherBase}
		s.State, s.Terms, s.LastEnd = RAgreeing, t, m.StartsAt
		out := *t
		return s, Step{Send: []Message{&out}}, nil
	case Decline:
		if s.State != RQuoted {
			break
		}
		s.State, s.Reason = RClosed, "declined"
		return s, Step{Send: []Message{&Cancel{JobID: s.JobID, Reason: "declined"}}}, nil
	case *AgreementMsg:
		if s.State != RAgreeing {
			break
		}
		got := *m
		got.RequesterSig, got.ProviderSig = nil, nil
		want := *s.Terms
		want.RequesterSig = nil
		if !sameTerms(&got, &want) || len(m.ProviderSig) == 0 {
			return s, Step{}, fmt.Errorf("%w: countersigned agreement differs from ours or is unsigned", ErrOutOfOrder)
		}
		s.State = RRunning
		return s, Step{}, nil
	case *Receipt:
		if s.State != RRunning {
			break
		}
		if err := s.checkReceipt(m); err != nil {
			return s, Step{}, err
		}
		s.Seq, s.LastEnd, s.Billed = m.Seq, m.End, m.Cumulative
		s.GPUms += m.GPUms
		s.CPUms += m.CPUms
		if m.Final {
			s.State = RFinishing
		}
		return s, Step{Send: []Message{&Voucher{JobID: s.JobID, ChannelID: s.Terms.ChannelID, Cumulative: m.Cumulative}}}, nil
	case *LogChunk:
		if s.State != RRunning && s.State != RFinishing {
			break
		}
		if m.Seq != s.LogSeq+1 {
			return s, Step{}, fmt.Errorf("%w: log chunk %d after %d", ErrOutOfOrder, m.Seq, s.LogSeq)
		}
		s.LogSeq = m.Seq
		return s, Step{}, nil
	case *Preemption:
		if s.State != RRunning {
			break
		}
		p := *m
		s.Preempted = &p
		return s, Step{}, nil
	case *Result:
		if s.State != RFinishing {
			break // a result before the final receipt is out of order
		}
		r := *m
		s.State, s.Result = RDone, &r
		return s, Step{}, nil
	case CancelJob:
		if s.State != RRunning {
			break
		}
		return s, Step{Send: []Message{&Cancel{JobID: s.JobID, Reason: m.Reason}}}, nil
	}
	return s, Step{}, outOfOrder(s.State, in)
}

// checkQuote accepts a quote only for this job at a rate the spec allows.
func (s *RequesterSession) checkQuote(q *Quote, now time.Time) error {
	r := s.Spec.Resources
	rate, err := q.Price.Rate(r.GPUs, r.CPUs)
	switch {
	case q.JobHash != s.Spec.JobHash():
		return fmt.Errorf("%w: quote for another job hash", ErrOutOfOrder)
	case err != nil || rate != q.Rate:
		return fmt.Errorf("%w: quoted rate %d does not follow from its prices", ErrOutOfOrder, q.Rate)
	case rate > s.Spec.MaxPrice:
		return fmt.Errorf("%w: quoted rate %d exceeds max price %d", ErrOutOfOrder, rate, s.Spec.MaxPrice)
	case q.MaxDurationSeconds != uint64(time.Duration(s.Spec.MaxDuration)/time.Second):
		return fmt.Errorf("%w: quoted duration differs from the spec", ErrOutOfOrder)
	case !q.ExpiresAt.After(now):
		return fmt.Errorf("%w: quote already expired", ErrOutOfOrder)
	}
	return nil
}

// checkReceipt checks order, time and that the amount follows from the
// counters at the agreed prices. Signatures and PrevHash are the wallet's
// (wallet.CheckReceipt) and are checked by the glue before Step.
func (s *RequesterSession) checkReceipt(m *Receipt) error {
	t := s.Terms
	d := m.End - m.Start
	switch {
	case m.Seq != s.Seq+1:
		return fmt.Errorf("%w: receipt %d after %d (replayed or skipped)", ErrOutOfOrder, m.Seq, s.Seq)
	case m.Start < s.LastEnd:
		return fmt.Errorf("%w: receipt starts at %d before the last ended (%d)", ErrOutOfOrder, m.Start, s.LastEnd)
	case d > 2*uint64(t.IntervalSeconds):
		return fmt.Errorf("%w: receipt covers %d s, the interval is %d s", ErrOutOfOrder, d, t.IntervalSeconds)
	case m.End-t.StartsAt > t.MaxDurationSeconds+uint64(t.IntervalSeconds):
		return fmt.Errorf("%w: receipt past the agreed duration", ErrOutOfOrder)
	case m.GPUms > d*1000*uint64(t.GPUs) || m.CPUms > d*uint64(t.CPUs):
		return fmt.Errorf("%w: receipt meters more than the granted resources", ErrOutOfOrder)
	}
	want, err := t.Price.Cost(s.GPUms+m.GPUms, s.CPUms+m.CPUms)
	if err != nil {
		return err
	}
	if m.Cumulative != want {
		return fmt.Errorf("%w: receipt claims %d, its counters cost %d", ErrOutOfOrder, m.Cumulative, want)
	}
	return nil
}

func sameTerms(a, b *AgreementMsg) bool {
	return a.JobID == b.JobID && a.JobHash == b.JobHash && a.Requester == b.Requester && a.Payee == b.Payee &&
		a.ChannelID == b.ChannelID && a.Deposit == b.Deposit && a.GPUs == b.GPUs && a.CPUs == b.CPUs && a.Price == b.Price &&
		a.IntervalSeconds == b.IntervalSeconds && a.MaxDurationSeconds == b.MaxDurationSeconds && a.StartsAt == b.StartsAt &&
		a.VoucherBase == b.VoucherBase
}
