package market

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/p2p/wire"
	"github.com/sparegpu/spare/wallet"
)

// attempt is one job stream with one provider.
type attempt struct {
	x      *submission
	peerID peer.ID
	payee  common.Address
	s      network.Stream
	sess   RequesterSession
	ch     wallet.ChannelInfo
	sa     wallet.SignedAgreement
	aid    common.Hash
	paid   uint64 // best voucher sent, for this job
	base   uint64 // what the channel's vouchers claimed before this job
	adRate uint64 // the job's rate at the ad's price: the most a quote may ask
}

func (a *attempt) send(m Message) error {
	_ = a.s.SetWriteDeadline(time.Now().Add(QuoteTimeout))
	return WriteMessage(a.s, m)
}

func (a *attempt) recv(d time.Duration) (Message, error) {
	if d > 0 {
		_ = a.s.SetReadDeadline(time.Now().Add(d))
	}
	return ReadMessage(a.s)
}

func (a *attempt) run(ctx context.Context) (_ *Result, err error) {
	x := a.x
	// A job is never run through a relay: over a relayed connection
	// this waits for hole punching, and once the punches have all failed
	// (or at once, when the provider's ad says relay-only) the error is
	// ErrRelayOnly.
	a.s, err = x.r.Host.NewDirectStream(ctx, a.peerID, ProtocolID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProviderLost, err)
	}
	defer func() {
		if err != nil {
			var re *wire.RemoteError
			if !errors.As(err, &re) && !errors.Is(err, ErrProviderLost) {
				_ = wire.WriteError(a.s, string(RefuseProtocol), err.Error())
			}
			_ = a.s.Reset()
		} else {
			_ = a.s.Close()
		}
	}()
	stop := context.AfterFunc(ctx, func() { _ = a.s.Reset() })
	defer stop()
	var prop *Proposal
	a.sess, prop = NewRequesterSession(newJobID(), x.spec, Address(x.me))
	if err := a.send(prop); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProviderLost, err)
	}
	m, err := a.recv(QuoteTimeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProviderLost, err)
	}
	if err := a.step(m, nil); err != nil {
		return nil, err
	}
	if a.sess.State == RClosed {
		return nil, fmt.Errorf("%s", a.sess.Reason)
	}
	if a.sess.Quote.Rate > a.adRate {
		if _, err := x.r.Trust.Record(a.peerID.String(), false, time.Now()); err != nil {
			x.r.Log.Warn("recording a provider's bait and switch", "provider", a.peerID, "err", err)
		}
		return nil, fmt.Errorf("%w: %s a second for this job, its ad %s", ErrBaitAndSwitch,
			wallet.Amount(a.sess.Quote.Rate), wallet.Amount(a.adRate))
	}
	defer a.release()
	if err := a.agree(ctx); err != nil {
		return nil, err
	}
	progressFunc(x.opt.Progress).report(Progress{Stage: StageRunning, Provider: a.peerID.String()})
	_ = a.s.SetDeadline(time.Now().Add(time.Duration(a.sess.Terms.MaxDurationSeconds)*time.Second + requestSlack))
	for a.sess.State != RDone {
		m, err := a.recv(0)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: %w (paid %s for the receipted work)", ErrProviderLost, err, wallet.Amount(a.paid))
		}
		if ref, ok := m.(*RefusalMsg); ok {
			return nil, fmt.Errorf("%w: provider ended the job: %s", ErrProviderLost, ref.Refusal.Error())
		}
		if err := a.step(m, nil); err != nil {
			return nil, err
		}
	}
	res := a.sess.Result
	if res.Error.Retryable() {
		return nil, fmt.Errorf("%w: %s (paid %s for the receipted work)", ErrProviderLost, res.Error, wallet.Amount(a.paid))
	}
	return res, nil
}

// release hands the attempt's channel back to a ChannelOpener that lends
// channels job after job (ChannelLender).
func (a *attempt) release() {
	if l, ok := a.x.ls.(ChannelLender); ok && a.ch.ID != (common.Hash{}) {
		l.Release(a.ch.ID)
	}
}

// agree opens the payment channel, signs the agreement, and checks and
// records the provider's countersignature.
func (a *attempt) agree(ctx context.Context) error {
	x := a.x
	deposit := x.opt.Deposit
	if deposit <= 0 {
		deposit = wallet.Amount(a.sess.Quote.MaxCost)
	}
	if deposit < wallet.Amount(a.sess.Quote.MaxCost) {
		return fmt.Errorf("deposit %s does not cover the quoted maximum cost %s: raise --deposit or leave it out",
			deposit, wallet.Amount(a.sess.Quote.MaxCost))
	}
	var ch wallet.ChannelInfo
	var err error
	lock := time.Duration(a.sess.Quote.MaxDurationSeconds)*time.Second + LockSlack
	if l, ok := x.ls.(ChannelLender); ok {
		ch, deposit, err = l.Lend(ctx, a.payee, x.me, wallet.Amount(a.sess.Quote.MaxCost), deposit, lock)
	} else if lo, ok := x.ls.(LockingOpener); ok {
		ch, err = lo.OpenFor(ctx, a.payee, x.me, deposit, lock)
	} else {
		ch, err = x.ls.Open(ctx, a.payee, x.me, deposit)
	}
	if err != nil {
		return fmt.Errorf("opening a payment channel: %w", err)
	}
	a.ch = ch
	// A channel used before (on a chain, Channels may hand back a funded
	// one) goes on from the best voucher this wallet signed on it.
	switch best, err := x.r.Wallet.Ledger.BestVoucher(ctx, ch.ID); {
	case err == nil:
		a.base = uint64(best.Cumulative)
	case !errors.Is(err, wallet.ErrNotFound):
		return fmt.Errorf("reading the channel's vouchers: %w", err)
	}
	if err := a.step(Accept{ChannelID: Hash(ch.ID), Deposit: uint64(deposit), Payee: Address(a.payee), StartsAt: uint64(time.Now().Unix()),
		VoucherBase: a.base}, ctx); err != nil {
		return err
	}
	m, err := a.recv(QuoteTimeout)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProviderLost, err)
	}
	if ref, ok := m.(*RefusalMsg); ok {
		_ = a.step(ref, nil)
		return fmt.Errorf("%s", a.sess.Reason)
	}
	ag, ok := m.(*AgreementMsg)
	if !ok {
		return fmt.Errorf("%w: want the countersigned agreement, got type %d", ErrOutOfOrder, m.Type())
	}
	if err := a.step(ag, nil); err != nil {
		return err
	}
	sa, err := ag.SignedAgreement(ch.Domain)
	if err != nil {
		return err
	}
	sa.RequesterSig = a.sa.RequesterSig
	if err := x.r.Wallet.Ledger.RecordAgreement(ctx, &sa); err != nil {
		return fmt.Errorf("countersigned agreement: %w", err)
	}
	a.sa, a.aid = sa, sa.ID(sa.Domain)
	return nil
}

// step checks and applies one message or event; outgoing agreements and
// vouchers are signed and recorded before they are sent.
func (a *attempt) step(in any, ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	x := a.x
	next, st, err := a.sess.Step(in, time.Now())
	if err != nil {
		return err
	}
	switch m := in.(type) {
	case *Receipt:
		sr := m.WalletReceipt(a.aid)
		if _, err := x.r.Wallet.Ledger.RecordReceipt(ctx, &sr, time.Now()); err != nil {
			return fmt.Errorf("receipt %d refused: %w", m.Seq, err)
		}
		if x.opt.StopPayingAfter < 0 || x.opt.StopPayingAfter > 0 && int(m.Seq) > x.opt.StopPayingAfter {
			a.sess = next
			return nil
		}
	case *LogChunk:
		w := x.opt.Stdout
		if m.Stream == "stderr" {
			w = x.opt.Stderr
		}
		_, _ = w.Write(m.Data)
	case *Preemption:
		fmt.Fprintf(x.opt.Notes, "spare: provider %s: job %s (%s)\n", shortPeer(a.peerID.String()),
			map[bool]string{true: "frozen", false: "ending"}[m.Frozen], m.Reason)
	}
	a.sess = next
	for _, out := range st.Send {
		switch m := out.(type) {
		case *AgreementMsg:
			a.grantBlobs()
			wa, err := m.WalletAgreement()
			if err != nil {
				return err
			}
			if m.RequesterSig, err = wallet.SignAgreement(a.ch.Domain, &wa, x.key); err != nil {
				return err
			}
			a.sa.RequesterSig = m.RequesterSig
		case *Voucher:
			sv, err := wallet.SignVoucher(a.ch.Domain, wallet.Voucher{ChannelID: a.ch.ID, Cumulative: wallet.Amount(a.base + m.Cumulative)}, x.key)
			if err != nil {
				return err
			}
			if _, err := x.r.Wallet.Ledger.RecordVoucher(ctx, &sv, a.aid); err != nil {
				return fmt.Errorf("recording voucher: %w", err)
			}
			m.Sig = sv.Sig
			a.paid = m.Cumulative
			progressFunc(x.opt.Progress).report(Progress{Stage: StageRunning, Provider: a.peerID.String(), Paid: a.paid})
		}
		if err := a.send(out); err != nil {
			return fmt.Errorf("%w: %w", ErrProviderLost, err)
		}
	}
	return nil
}

// grantBlobs lets the provider fetch the image archive and inputs the
// spec names from this host, for as long as the job may run and an hour
// more; no other peer may.
func (a *attempt) grantBlobs() {
	spec := a.x.spec
	ttl := time.Duration(spec.MaxDuration) + time.Hour
	grant := func(d Digest) {
		if dg, err := p2p.ParseDigest(string(d)); err == nil {
			a.x.r.Host.GrantBlob(a.peerID, dg, ttl)
		}
	}
	if spec.Image.Blob {
		grant(spec.Image.Digest)
	}
	for _, in := range spec.Inputs {
		grant(in.Digest)
	}
}
