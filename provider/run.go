package provider

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p/wire"
	"github.com/sparegpu/spare/wallet"
)

// providerRun is one job stream on the provider: a goroutine owns the
// session and everything below; the reader, the job starter and the
// job's log writers only deliver to it over channels.
type providerRun struct {
	p    *Provider
	s    network.Stream
	peer peer.ID
	adm  *admission
	log  *slog.Logger

	sess market.ProviderSession
	sa   wallet.SignedAgreement
	aid  common.Hash
	base uint64 // the agreement's VoucherBase (a reused channel)
	rst  wallet.ReceiptState

	in      chan market.Message
	rerr    chan error
	quit    chan struct{}
	started chan startResult
	logs    chan market.LogChunk
	notices chan governor.Notice
	tasks   sync.WaitGroup
	stop    context.CancelFunc // ends what the session started

	rj         *node.RunningJob
	blobPins   []string             // the job's blobs, kept from sweeps while the session runs
	imagePins  []string             // its image (set by start; read after tasks.Wait)
	jobID      string               // the sandbox's
	meterFrom  uint64               // unix seconds metering runs from; 0: not metering
	gone       bool                 // the requester is unreachable
	cancelled  bool                 // the requester cancelled
	preempted  market.PreemptReason // a Preemption reason the governor gave, if it ended the job
	ownerEnded bool                 // the governor ended the job (the owner came back, a freeze failed)
	closing    chan struct{}        // the channel's payer asked to close it (watchClose); nil: no chain
	closeSeen  bool                 // … and the job was ended for it
}

type startResult struct {
	rj  *node.RunningJob
	err error
}

// fail sends a protocol error and resets the stream.
func (r *providerRun) fail(code string, err error) {
	r.log.Info("job stream failed", "code", code, "err", err)
	_ = r.s.SetWriteDeadline(time.Now().Add(WriteTimeout))
	_ = wire.WriteError(r.s, code, err.Error())
	_ = r.s.Reset()
}

func (r *providerRun) send(m market.Message) {
	if r.gone {
		return
	}
	_ = r.s.SetWriteDeadline(time.Now().Add(WriteTimeout))
	if err := market.WriteMessage(r.s, m); err != nil {
		r.log.Info("requester unreachable", "err", err)
		r.gone = true
	}
}

func (r *providerRun) run(ctx context.Context) {
	r.in, r.rerr, r.quit = make(chan market.Message), make(chan error, 1), make(chan struct{})
	r.started = make(chan startResult, 1)
	r.logs = make(chan market.LogChunk, 64)
	_ = r.s.SetDeadline(time.Now().Add(r.p.adm.limits.proposal))
	msg, err := market.ReadMessage(r.s)
	if err != nil {
		r.fail(string(market.RefuseProtocol), err)
		return
	}
	prop, ok := msg.(*market.Proposal)
	if !ok {
		r.fail(string(market.RefuseProtocol), fmt.Errorf("want a proposal, got type %d", msg.Type()))
		return
	}
	if ref := r.p.iouRefusal(r.peer, time.Now()); ref != nil {
		r.log.Info("refusing IOUs from a stranger", "peer", r.peer)
		r.send(&market.RefusalMsg{JobID: prop.JobID, Refusal: *ref})
		_ = r.s.Close()
		return
	}
	// A requester that left work unpaid is refused; one that never paid a
	// job in full runs up less unpaid work than one that has.
	credit := r.p.cfg.Credit
	refusal, intervals := admitRequester(r.p.stand.get(r.peer.String()), time.Now())
	if refusal != "" {
		r.log.Info("refusing a requester that owes", "why", refusal)
		r.send(&market.RefusalMsg{JobID: prop.JobID, Refusal: market.Refusal{Code: market.RefuseCredit, Message: refusal}})
		_ = r.s.Close()
		return
	}
	if intervals > 0 && (credit.Intervals == 0 || credit.Intervals > intervals) {
		credit.Intervals = intervals
	}
	c, _ := r.p.capacity()
	r.sess = market.NewProviderSession(c, r.p.quotePolicy(time.Now()), credit)
	if err := r.step(ctx, prop); err != nil {
		r.fail(string(market.RefuseProtocol), err)
		return
	}
	if r.sess.State == market.PClosed {
		_ = r.s.Close()
		return
	}
	r.log = r.log.With("job", string(prop.JobID))
	_ = r.s.SetDeadline(r.sess.Quote.ExpiresAt.Add(5 * time.Second))
	if msg, err = market.ReadMessage(r.s); err != nil {
		r.fail(string(market.RefuseProtocol), err)
		return
	}
	ag, ok := msg.(*market.AgreementMsg)
	if !ok {
		if err := r.step(ctx, msg); err != nil { // a cancel, or out of order
			r.fail(string(market.RefuseProtocol), err)
			return
		}
		_ = r.s.Close()
		return
	}
	if ref := r.checkChannel(ctx, ag); ref != nil {
		r.log.Info("refusing a job its channel cannot pay for", "why", ref.Message)
		r.send(&market.RefusalMsg{JobID: ag.JobID, Refusal: *ref})
		_ = r.s.Close()
		return
	}
	r.base = ag.VoucherBase
	if ref := r.admit(ag); ref != nil {
		r.send(&market.RefusalMsg{JobID: ag.JobID, Refusal: *ref})
		_ = r.s.Close()
		return
	}
	defer r.p.release()
	r.p.settle(r.adm)
	// What the session starts (fetching the job's blobs, starting it)
	// ends with the session: a fetch still running when the requester
	// goes away stops at once.
	ctx, r.stop = context.WithCancel(ctx)
	defer r.stop()
	_ = r.s.SetDeadline(time.Now().Add(time.Duration(ag.MaxDurationSeconds)*time.Second + StreamSlack))
	if err := r.step(ctx, ag); err != nil {
		r.fail(string(market.RefuseProtocol), err)
		return
	}
	if r.sess.State == market.PClosed {
		_ = r.s.Close()
		return
	}
	r.loop(ctx)
	r.settleOnChain(ctx)
}

// admit checks what the session cannot: the payee is this provider and
// the machine is still free. It reserves the machine on success.
func (r *providerRun) admit(ag *market.AgreementMsg) *market.Refusal {
	if common.Address(ag.Payee) != r.p.me {
		return &market.Refusal{Code: market.RefuseBadAgreement, Message: "payee is not this provider's " + r.p.me.Hex()}
	}
	if !r.p.reserve() {
		return &market.Refusal{Code: market.RefuseBusy, Message: "the provider took another job"}
	}
	if c, _ := r.p.capacity(); c.Paused || (c.Busy && c.Reason != "") && r.p.d.Status().State != localapi.StateAvailable {
		r.p.release()
		code := market.RefuseBusy
		if c.Paused {
			code = market.RefusePaused
		}
		return &market.Refusal{Code: code, Message: c.Reason}
	}
	return nil
}

// loop drives the running job until the session closes.
func (r *providerRun) loop(ctx context.Context) {
	go r.read(r.in, r.rerr, r.quit)
	defer func() {
		r.stop() // before waiting for the session's tasks
		close(r.quit)
		if r.sess.State == market.PClosed && !r.gone {
			_ = r.s.Close()
		} else {
			_ = r.s.Reset()
		}
		r.tasks.Wait()
		r.stopOrphan()
		if r.jobID != "" {
			r.p.unwatch(r.jobID)
			r.p.untrack(r.jobID)
		}
		r.retire(ctx)
		r.log.Info("job session closed", "state", r.sess.State, "reason", r.sess.Reason,
			"billed", r.sess.Billed, "paid", r.sess.Paid)
		if err := r.p.stand.ended(r.peer.String(), r.sess.Billed, r.sess.Paid, r.ownerEnded, time.Now()); err != nil {
			r.log.Error("recording the requester's standing", "err", err)
		}
	}()
	tick := time.NewTicker(time.Duration(r.sess.Terms.IntervalSeconds) * time.Second)
	defer tick.Stop()
	var done <-chan node.JobResult
	for r.sess.State != market.PClosed {
		var err error
		select {
		case m := <-r.in:
			err = r.step(ctx, m)
		case rerr := <-r.rerr:
			if !r.gone {
				r.log.Info("requester stream ended", "err", rerr)
			}
			r.gone = true
			r.rerr = nil
			if r.rj != nil && r.sess.State < market.PEnding {
				r.kill(ctx)
			} else if r.rj == nil {
				return // nothing ran or everything is recorded
			}
		case sr := <-r.started:
			if sr.err != nil {
				r.fail(string(market.RefuseStartFailed), sr.err)
				r.gone = true
				return
			}
			r.rj, done = sr.rj, sr.rj.Done
			r.meterFrom = uint64(time.Now().Unix())
		case res := <-done:
			done = nil
			err = r.exited(ctx, res)
		case n := <-r.notices:
			err = r.notice(ctx, n)
		case <-r.closing:
			r.closing = nil
			if r.rj != nil && r.sess.State < market.PEnding {
				r.log.Info("the requester asked to close the job's channel; ending the job and settling", "channel", r.sa.ChannelID.Hex())
				r.closeSeen = true
				r.kill(ctx)
			}
		case c := <-r.logs:
			err = r.step(ctx, c)
		case <-tick.C:
			if u, ok := r.usage(false); ok {
				if err = r.step(ctx, u); err != nil {
					break
				}
			}
			err = r.step(ctx, market.Tick{})
		}
		if err != nil {
			r.log.Warn("job session error", "err", err)
			if r.rj != nil && done != nil {
				r.kill(ctx)
				err = r.exited(ctx, <-done)
			}
			if err != nil || r.sess.State != market.PClosed {
				r.gone = true
				return
			}
		}
		if r.gone && r.sess.State == market.PFinishing {
			return // nobody to pay the final voucher
		}
	}
}

// read delivers the requester's messages to the loop.
func (r *providerRun) read(in chan<- market.Message, rerr chan<- error, quit <-chan struct{}) {
	for {
		m, err := market.ReadMessage(r.s)
		if err != nil {
			rerr <- err
			return
		}
		select {
		case in <- m:
		case <-quit:
			return
		}
	}
}

// usage is the metered interval since the last one: wall-clock time ×
// the granted GPUs and CPU. A final interval covers at least a second.
func (r *providerRun) usage(final bool) (market.Usage, bool) {
	now := uint64(time.Now().Unix())
	from := r.meterFrom
	if from == 0 {
		if !final {
			return market.Usage{}, false
		}
		from = max(r.sess.LastEnd, now-1)
	}
	if now <= from {
		if !final {
			return market.Usage{}, false
		}
		now = from + 1
	}
	if r.meterFrom != 0 {
		r.meterFrom = now
	}
	d := now - from
	t := r.sess.Terms
	return market.Usage{Start: from, End: now, GPUms: d * 1000 * uint64(t.GPUs), CPUms: d * uint64(t.CPUs)}, true
}

func (r *providerRun) kill(ctx context.Context) {
	if r.rj == nil {
		return
	}
	j := r.rj.Job
	r.tasks.Add(1)
	go func() {
		defer r.tasks.Done()
		if err := j.Stop(context.WithoutCancel(ctx), node.EndGrace); err != nil {
			r.log.Warn("stopping job", "err", err)
		}
	}()
}

// notice applies a governor notice: freeze, thaw or the end to come.
func (r *providerRun) notice(ctx context.Context, n governor.Notice) error {
	reason := market.PreemptUserReturned
	if n.Reason.Code == localapi.ReasonDraining {
		reason = market.PreemptDraining
	}
	if n.Resumed {
		if r.meterFrom == 0 && r.sess.State == market.PRunning {
			r.meterFrom = uint64(time.Now().Unix())
		}
		return nil
	}
	r.preempted = reason
	if u, ok := r.usage(false); ok {
		if err := r.step(ctx, u); err != nil {
			return err
		}
	}
	r.meterFrom = 0
	grace := uint32(0)
	if !n.EndsAt.IsZero() {
		grace = uint32(max(time.Until(n.EndsAt), 0) / time.Second)
	}
	return r.step(ctx, market.Preempt{Reason: reason, Frozen: !n.Ended, GraceSeconds: grace})
}

// step applies one input to the session, then signs, records and sends
// what it produced, and carries out its actions.
func (r *providerRun) step(ctx context.Context, in any) error {
	now := time.Now()
	next, st, err := r.sess.Step(in, now)
	if err != nil {
		return err
	}
	if v, ok := in.(*market.Voucher); ok {
		sv := v.WalletVoucher(r.sa.Domain)
		sv.Cumulative += wallet.Amount(r.base) // signed over what the channel claimed before this job
		if _, err := r.p.cfg.Wallet.Ledger.RecordVoucher(ctx, &sv, r.aid); err != nil {
			return fmt.Errorf("voucher refused: %w", err)
		}
	}
	if _, ok := in.(*market.Cancel); ok {
		r.cancelled = true
	}
	r.sess = next
	for _, m := range st.Send {
		if err := r.seal(ctx, m, now); err != nil {
			return err
		}
		r.send(m)
		if ref, ok := m.(*market.RefusalMsg); ok && ref.Code == market.RefuseBelowCost {
			r.log.Info("refusing a job below the electricity cost", "why", ref.Message)
			r.p.noteBelowCost(now)
		}
	}
	for _, a := range st.Do {
		r.act(ctx, a)
	}
	return nil
}

// seal signs and records outgoing agreements and receipts.
func (r *providerRun) seal(ctx context.Context, m market.Message, now time.Time) error {
	switch m := m.(type) {
	case *market.AgreementMsg:
		sa, err := m.SignedAgreement(r.p.domain)
		if err != nil {
			return err
		}
		if sa.PayeeSig, err = wallet.SignAgreement(r.p.domain, &sa.Agreement, r.p.key); err != nil {
			return err
		}
		// The embedded ledger backend keeps IOUs: the channel is the
		// requester's word for the deposit the agreement names (the
		// session checked it covers the quoted job's maximum cost). On a
		// chain, checkChannel read and recorded the channel already.
		if r.p.cfg.Chain == nil {
			ch := wallet.ChannelInfo{ID: sa.ChannelID, Domain: r.p.domain, Payer: sa.Requester, Payee: r.p.me,
				Signer: sa.Requester, Deposit: wallet.Amount(r.sess.Terms.Deposit)}
			if err := r.p.cfg.Wallet.Ledger.AddChannel(ctx, wallet.LedgerBackend, ch); err != nil {
				return err
			}
		}
		if err := r.p.cfg.Wallet.Ledger.RecordAgreement(ctx, &sa); err != nil {
			return fmt.Errorf("agreement refused: %w", err)
		}
		r.sa, r.aid = sa, sa.ID(sa.Domain)
		m.RequesterSig, m.ProviderSig = sa.RequesterSig, sa.PayeeSig
	case *market.Receipt:
		ur, err := wallet.NextReceipt(&r.sa, r.rst, m.Start, m.End, m.GPUms, m.CPUms, m.Final)
		if err != nil {
			return err
		}
		if uint64(ur.Cumulative) != m.Cumulative || ur.Seq != m.Seq {
			return fmt.Errorf("receipt %d: session and wallet disagree (%d vs %s)", m.Seq, m.Cumulative, ur.Cumulative)
		}
		sr, err := wallet.SignReceipt(r.sa.Domain, ur, r.p.key)
		if err != nil {
			return err
		}
		if r.rst, err = r.p.cfg.Wallet.Ledger.RecordReceipt(ctx, &sr, now); err != nil {
			return fmt.Errorf("recording receipt %d: %w", m.Seq, err)
		}
		m.PrevHash, m.Sig = market.Hash(ur.PrevHash), sr.Sig
	}
	return nil
}

func (r *providerRun) act(ctx context.Context, a market.Action) {
	switch a {
	case market.ActStart:
		r.jobID = "job-" + string(r.sess.JobID)
		r.blobPins = jobBlobs(r.sess.Spec)
		r.p.ret.pin(r.blobPins...)
		r.notices = r.p.watch(r.jobID)
		r.startCloseWatch(ctx)
		r.p.track(r.jobID, jobMeta{kind: r.sess.Spec.WorkloadKind(), requester: r.peer, agreement: r.aid})
		r.p.d.TagJobEnergy(r.jobID, r.aid.Hex())
		job, spec, terms := r.sess.JobID, r.sess.Spec, *r.sess.Terms
		r.tasks.Add(1)
		go func() {
			defer r.tasks.Done()
			rj, err := r.start(ctx, job, spec, terms)
			r.started <- startResult{rj, err}
		}()
	case market.ActPause:
		if r.rj != nil {
			if err := r.rj.Job.Pause(ctx); err != nil {
				r.log.Warn("freezing unpaid job; ending it", "err", err)
				r.kill(ctx)
			}
			r.meterFrom = 0
		}
	case market.ActResume:
		if r.rj != nil {
			if err := r.rj.Job.Resume(ctx); err != nil {
				r.log.Warn("thawing job", "err", err)
			}
			r.meterFrom = uint64(time.Now().Unix())
		}
	case market.ActKill:
		r.kill(ctx)
	}
}
