package market

import (
	"errors"
	"fmt"
	"time"
)

// ErrOutOfOrder is wrapped when a session receives a message or event its
// state does not allow; the session is unchanged and the glue resets the
// stream, sending a wire error with code "protocol".
var ErrOutOfOrder = errors.New("out-of-order message")

// CreditAction is what the credit limit tells a provider to do.
type CreditAction int

// Credit actions, by severity (the wallet's Continue, Pause, End).
const (
	CreditContinue CreditAction = iota
	CreditPause
	CreditEnd
)

// CreditState is what the credit limit decides on.
type CreditState struct {
	Billed      uint64    // cumulative amount of the latest receipt
	Paid        uint64    // best voucher received
	PerInterval uint64    // one full interval at the agreed prices
	OverSince   time.Time // when unpaid work first passed the limit; zero if not
}

// CreditLimit decides whether unpaid work may go on; the wallet provides
// the real one (wallet.Credit.Decide behind a small adapter).
type CreditLimit interface {
	Check(c CreditState, now time.Time) (CreditAction, string)
}

// Action is a local effect the node performs for a provider session.
type Action int

// Provider actions.
const (
	ActStart  Action = iota + 1 // fetch the image and inputs, run the job
	ActPause                    // freeze the job: unpaid past the limit
	ActResume                   // thaw it: paid again
	ActKill                     // end it; an Exited event follows
)

// Step is what one input produced: messages to send, in order, and local
// actions. Outgoing AgreementMsg and Receipt are unsigned: the glue has
// the wallet fill ProviderSig, or PrevHash and Sig, and record them
// durably before sending.
type Step struct {
	Send []Message
	Do   []Action
}

// Local events a provider session takes besides peer messages.
type (
	// Usage is one metered interval of the running job.
	Usage struct {
		Start, End   uint64 // unix seconds
		GPUms, CPUms uint64
	}
	// Exited is the job's end; Final is its last, possibly partial, usage.
	Exited struct {
		Final    Usage
		ExitCode int
		Outputs  []Output
		LogTail  string
		Error    ResultError // empty when the job exited by itself
	}
	// Preempt: the owner is back or the node drains.
	Preempt struct {
		Reason       PreemptReason
		Frozen       bool
		GraceSeconds uint32
	}
	// Tick lets time-based rules (credit timeout, final voucher wait) run.
	Tick struct{}
)

// ProviderState is where a provider session stands.
type ProviderState int

// Provider states.
const (
	PAwaitProposal ProviderState = iota
	PQuoted
	PRunning
	PFrozenUnpaid // paused by the credit limit
	PEnding       // killed; waiting for Exited
	PFinishing    // result sent; waiting for the final voucher
	PClosed
)

var providerStates = [...]string{"await_proposal", "quoted", "running", "frozen_unpaid", "ending", "finishing", "closed"}

func (s ProviderState) String() string { return providerStates[s] }

// FinalVoucherWait is how long a provider waits for the last voucher.
const FinalVoucherWait = 30 * time.Second

// ProviderSession is the provider's side of one job, a value: Step returns
// the next one. Create it with NewProviderSession.
type ProviderSession struct {
	State  ProviderState
	Reason string // why it closed, for people
	JobID  JobID
	Spec   *JobSpec
	Quote  Quote
	Terms  *AgreementMsg

	Seq             uint64 // last receipt sent
	LastEnd         uint64
	GPUms, CPUms    uint64 // cumulative
	Billed, Paid    uint64
	OverSince       time.Time
	FinishedAt      time.Time
	LogSeq          uint64
	capacity        Capacity
	policy          Policy
	credit          CreditLimit
	endingForCredit bool
}

// NewProviderSession starts a session that quotes with capacity c and
// policy p and enforces credit.
func NewProviderSession(c Capacity, p Policy, credit CreditLimit) ProviderSession {
	return ProviderSession{capacity: c, policy: p, credit: credit}
}

func outOfOrder(state fmt.Stringer, in any) error {
	return fmt.Errorf("%w: %T in state %s", ErrOutOfOrder, in, state)
}

// Step applies one input (a peer Message or a local event) at now.
func (s ProviderSession) Step(in any, now time.Time) (ProviderSession, Step, error) {
	if m, ok := in.(Message); ok && s.JobID != "" && msgJobID(m) != s.JobID {
		return s, Step{}, fmt.Errorf("%w: message for job %s in session %s", ErrOutOfOrder, msgJobID(m), s.JobID)
	}
	switch m := in.(type) {
	case *Proposal:
		if s.State != PAwaitProposal {
			break
		}
		s.JobID, s.Spec = m.JobID, &m.Spec
		q, ref := QuoteJob(s.Spec, s.capacity, s.policy, now)
		if ref != nil {
			s.State, s.Reason = PClosed, ref.Message
			return s, Step{Send: []Message{&RefusalMsg{JobID: s.JobID, Refusal: *ref}}}, nil
		}
		s.State, s.Quote = PQuoted, q
		return s, Step{Send: []Message{&QuoteMsg{JobID: s.JobID, Quote: q}}}, nil
	case *AgreementMsg:
		if s.State != PQuoted {
			break
		}
		if ref := s.checkTerms(m, now); ref != nil {
			s.State, s.Reason = PClosed, ref.Message
			return s, Step{Send: []Message{&RefusalMsg{JobID: s.JobID, Refusal: *ref}}}, nil
		}
		t := *m
		t.ProviderSig = nil
		s.State, s.Terms, s.LastEnd = PRunning, &t, m.StartsAt
		reply := t
		return s, Step{Send: []Message{&reply}, Do: []Action{ActStart}}, nil
	case *Voucher:
		if s.State < PRunning || s.State == PClosed {
			break
		}
		switch {
		case m.ChannelID != s.Terms.ChannelID:
			return s, Step{}, fmt.Errorf("%w: voucher for another channel", ErrOutOfOrder)
		case m.Cumulative <= s.Paid:
			return s, Step{}, fmt.Errorf("%w: voucher for %d does not raise %d (stale or replayed)", ErrOutOfOrder, m.Cumulative, s.Paid)
		case m.Cumulative > s.Billed:
			return s, Step{}, fmt.Errorf("%w: voucher for %d exceeds the %d billed", ErrOutOfOrder, m.Cumulative, s.Billed)
		}
		s.Paid = m.Cumulative
		if s.State == PEnding {
			return s, Step{}, nil
		}
		if s.State == PFinishing {
			if s.Paid == s.Billed {
				s.State, s.Reason = PClosed, "paid in full"
			}
			return s, Step{}, nil
		}
		return s.creditStep(now, Step{})
	case *Cancel:
		switch s.State {
		case PQuoted:
			s.State, s.Reason = PClosed, "cancelled by the requester"
			return s, Step{}, nil
		case PRunning, PFrozenUnpaid:
			s.State = PEnding
			return s, Step{Do: []Action{ActKill}}, nil
		}
	case Usage:
		if s.State != PRunning && s.State != PFrozenUnpaid && s.State != PEnding {
			break
		}
		r, err := s.receipt(m, false)
		if err != nil {
			return s, Step{}, err
		}
		s = s.advance(r)
		if s.State == PEnding {
			return s, Step{Send: []Message{r}}, nil
		}
		return s.creditStep(now, Step{Send: []Message{r}})
	case Exited:
		if s.State != PRunning && s.State != PFrozenUnpaid && s.State != PEnding {
			break
		}
		r, err := s.receipt(m.Final, true)
		if err != nil {
			return s, Step{}, err
		}
		s = s.advance(r)
		res := &Result{JobID: s.JobID, ExitCode: m.ExitCode, Outputs: m.Outputs, LogTail: m.LogTail, Error: m.Error}
		if s.endingForCredit && res.Error == "" {
			res.Error = ResultCreditLimit
		}
		s.State, s.FinishedAt = PFinishing, now
		if s.Paid == s.Billed {
			s.State, s.Reason = PClosed, "paid in full"
		}
		return s, Step{Send: []Message{r, res}}, nil
	case Preempt:
		if s.State != PRunning && s.State != PFrozenUnpaid {
			break
		}
		return s, Step{Send: []Message{&Preemption{JobID: s.JobID, Reason: m.Reason, Frozen: m.Frozen, GraceSeconds: m.GraceSeconds}}}, nil
	case LogChunk:
		if s.State != PRunning && s.State != PFrozenUnpaid && s.State != PEnding {
			break
		}
		s.LogSeq++
		m.JobID, m.Seq = s.JobID, s.LogSeq
		return s, Step{Send: []Message{&m}}, nil
	case Tick:
		switch s.State {
		case PRunning, PFrozenUnpaid:
			return s.creditStep(now, Step{})
		case PFinishing:
			if now.Sub(s.FinishedAt) >= FinalVoucherWait {
				s.State, s.Reason = PClosed, fmt.Sprintf("closed with %d of %d unpaid", s.Billed-s.Paid, s.Billed)
			}
		}
		return s, Step{}, nil
	}
	return s, Step{}, outOfOrder(s.State, in)
}

// checkTerms compares an agreement with the quote it answers.
func (s *ProviderSession) checkTerms(m *AgreementMsg, now time.Time) *Refusal {
	q, r := s.Quote, s.Spec.Resources
	switch {
	case now.After(q.ExpiresAt):
		return refuse(RefuseQuoteExpired, "the quote expired at %s", q.ExpiresAt.Format(time.RFC3339))
	case m.JobHash != q.JobHash:
		return refuse(RefuseBadAgreement, "job hash %s is not the quoted job's", m.JobHash)
	case m.Price != q.Price || m.IntervalSeconds != q.IntervalSeconds || m.MaxDurationSeconds != q.MaxDurationSeconds:
		return refuse(RefuseBadAgreement, "price, interval or duration differ from the quote")
	case m.GPUs != r.GPUs || m.CPUs != r.CPUs:
		return refuse(RefuseBadAgreement, "granted resources differ from the spec")
	case m.Deposit < q.MaxCost:
		return refuse(RefuseBadAgreement, "deposit %d does not cover the job's maximum cost %d", m.Deposit, q.MaxCost)
	case len(m.RequesterSig) == 0 || len(m.ProviderSig) != 0:
		return refuse(RefuseBadAgreement, "want the requester's signature only")
	case m.StartsAt+60 < uint64(now.Unix()) || m.StartsAt > uint64(now.Unix())+60:
		return refuse(RefuseBadAgreement, "starts_at is more than a minute from now")
	}
	return nil
}

// receipt builds the next receipt for u, checking it against the terms.
func (s *ProviderSession) receipt(u Usage, final bool) (*Receipt, error) {
	t := s.Terms
	switch {
	case u.Start < s.LastEnd || u.End < u.Start:
		return nil, fmt.Errorf("%w: usage %d..%d after %d", ErrOutOfOrder, u.Start, u.End, s.LastEnd)
	case u.End-t.StartsAt > t.MaxDurationSeconds+uint64(t.IntervalSeconds):
		return nil, fmt.Errorf("%w: usage past the agreed duration", ErrOutOfOrder)
	case u.GPUms > (u.End-u.Start)*1000*uint64(t.GPUs) || u.CPUms > (u.End-u.Start)*uint64(t.CPUs):
		return nil, fmt.Errorf("%w: usage beyond the granted resources", ErrOutOfOrder)
	}
	cum, err := t.Price.Cost(s.GPUms+u.GPUms, s.CPUms+u.CPUms)
	if err != nil {
		return nil, err
	}
	return &Receipt{JobID: s.JobID, Seq: s.Seq + 1, Start: u.Start, End: u.End,
		GPUms: u.GPUms, CPUms: u.CPUms, Cumulative: cum, Final: final}, nil
}

func (s ProviderSession) advance(r *Receipt) ProviderSession {
	s.Seq, s.LastEnd = r.Seq, r.End
	s.GPUms += r.GPUms
	s.CPUms += r.CPUms
	s.Billed = r.Cumulative
	return s
}

// creditStep asks the credit limit and adds pause, resume or kill.
func (s ProviderSession) creditStep(now time.Time, st Step) (ProviderSession, Step, error) {
	per, err := s.Terms.Price.CostFor(s.Terms.GPUs, s.Terms.CPUs, uint64(s.Terms.IntervalSeconds))
	if err != nil {
		return s, st, err
	}
	act, reason := s.credit.Check(CreditState{Billed: s.Billed, Paid: s.Paid, PerInterval: per, OverSince: s.OverSince}, now)
	switch act {
	case CreditContinue:
		s.OverSince = time.Time{}
		if s.State == PFrozenUnpaid {
			s.State = PRunning
			st.Do = append(st.Do, ActResume)
		}
	case CreditPause:
		if s.OverSince.IsZero() {
			s.OverSince = now
		}
		if s.State == PRunning {
			s.State = PFrozenUnpaid
			st.Do = append(st.Do, ActPause)
			st.Send = append(st.Send, &Preemption{JobID: s.JobID, Reason: PreemptCreditLimit, Frozen: true})
		}
	case CreditEnd:
		s.State, s.Reason, s.endingForCredit = PEnding, reason, true
		st.Do = append(st.Do, ActKill)
	}
	return s, st, nil
}

func msgJobID(m Message) JobID {
	switch m := m.(type) {
	case *Proposal:
		return m.JobID
	case *QuoteMsg:
		return m.JobID
	case *RefusalMsg:
		return m.JobID
	case *AgreementMsg:
		return m.JobID
	case *Receipt:
		return m.JobID
	case *Voucher:
		return m.JobID
	case *LogChunk:
		return m.JobID
	case *Result:
		return m.JobID
	case *Preemption:
		return m.JobID
	case *Cancel:
		return m.JobID
	}
	return ""
}
