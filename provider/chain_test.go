package provider

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/internal/gethtest"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/internal/testpeer"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// devChain is a network deployed on the tests' geth --dev node, with a
// requester whose wallet holds its test token (and a second token of
// another deployment, for a hostile requester).
type devChain struct {
	node  *gethtest.Node
	net   evm.Network
	other evm.Network // another deployment: its token is not net's
	req   *market.Requester
}

func newDevChain(t *testing.T) *devChain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := &devChain{node: gethtest.Start(t)}
	dir := t.TempDir()
	d.req = &market.Requester{Host: testpeer.Host(t, dir), Wallet: wallettest.Open(t, dir),
		Blobs: p2p.FileStore{Dir: filepath.Join(dir, "blobs")}, Log: quietLogger()}
	key, err := d.req.Wallet.Key()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*evm.Network{&d.net, &d.other} {
		if *n, err = evm.Deploy(ctx, d.node.Client, key, evm.DeployOptions{RPC: d.node.URL, Faucet: 100_000_000, Log: quietLogger()}); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// backend is w's backend on the escrow of n, depositing token.
func (d *devChain) backend(t *testing.T, w *wallet.Wallet, n evm.Network, token common.Address) *evm.Backend {
	t.Helper()
	key, err := w.Key()
	if err != nil {
		t.Fatal(err)
	}
	b, err := evm.New(context.Background(), d.node.Client, n.Escrow, token, key, w.Ledger, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// onChain makes a test provider settle on d's network, with gas to send
// its settlements.
func (d *devChain) onChain(t *testing.T) providerOption {
	return providerOption{config: func(c *Config) {
		b := d.backend(t, c.Wallet, d.net, d.net.Token)
		addr, err := c.Wallet.Address()
		if err != nil {
			t.Fatal(err)
		}
		d.node.Fund(t, addr, big.NewInt(1e18))
		c.Chain, c.Token = b, d.net.Token
	}}
}

// opener opens channels whose signer is signer (the zero address or the
// requester's own).
type opener struct {
	b      *evm.Backend
	signer *common.Address
}

func (o opener) Open(ctx context.Context, payee, signer common.Address, deposit wallet.Amount) (wallet.ChannelInfo, error) {
	if o.signer != nil {
		signer = *o.signer
	}
	return o.b.Open(ctx, payee, signer, deposit)
}

// TestChainChannelChecks plays a hostile requester against a provider on
// a real chain (geth --dev): a channel whose vouchers are signed by the
// zero address, and one deposited in a token other than the network
// preset's, are each refused before anything runs, with their own code.
func TestChainChannelChecks(t *testing.T) {
	d := newDevChain(t)
	prov := startProvider(t, 100, market.WalletCredit{}, d.onChain(t))
	connect(t, d.req, prov)
	zero := common.Address{}
	for _, tc := range []struct {
		name string
		open opener
		code market.RefusalCode
	}{
		{"zero signer", opener{b: d.backend(t, d.req.Wallet, d.net, d.net.Token), signer: &zero}, market.RefuseBadSigner},
		{"other token", opener{b: d.backend(t, d.req.Wallet, d.net, d.other.Token)}, market.RefuseWrongToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.req.Channels = tc.open
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := d.req.Submit(ctx, imageSpec(t, d.req, "probe", "exit", "0"), market.SubmitOptions{Discovery: 10 * time.Second, MaxAttempts: 1})
			if err == nil || len(res.Tries) != 1 || !strings.Contains(res.Tries[0].Error, string(tc.code)) {
				t.Fatalf("%s: %+v, %v; want refused with %s", tc.name, res, err, tc.code)
			}
			t.Logf("refused: %s", res.Tries[0].Error)
			if b := balance(t, prov.wallet); b.Earned != 0 {
				t.Errorf("the provider earned %s", b.Earned)
			}
		})
	}
}

// TestChainCloseRequestEndsJob: the requester asks the escrow to close the
// channel while its job runs on a real chain (geth --dev); the provider
// sees it at its next read of the channel, ends the job (result
// channel_closing) long before its two minutes, and settles the best
// voucher it holds: the escrow's settled amount equals it.
func TestChainCloseRequestEndsJob(t *testing.T) {
	d := newDevChain(t)
	prov := startProvider(t, 100, market.WalletCredit{}, d.onChain(t),
		providerOption{provider: func(p *Provider) { p.closePoll = 500 * time.Millisecond }})
	rb := d.backend(t, d.req.Wallet, d.net, d.net.Token)
	d.req.Channels = rb
	connect(t, d.req, prov)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type outcome struct {
		res market.SubmitResult
		err error
		at  time.Time
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := d.req.Submit(ctx, imageSpec(t, d.req, "probe", "sleep", "2m"), market.SubmitOptions{Discovery: 10 * time.Second, MaxAttempts: 1})
		done <- outcome{res, err, time.Now()}
	}()
	testenv.WaitFor(t, "a voucher for the running job", time.Minute, func() bool { return balance(t, prov.wallet).Earned > 0 })
	me, err := prov.wallet.Address()
	if err != nil {
		t.Fatal(err)
	}
	chs, err := prov.wallet.Ledger.Channels(ctx, me)
	if err != nil || len(chs) != 1 {
		t.Fatalf("the provider's channels: %v, %v", chs, err)
	}
	id := chs[0].ID
	if err := rb.RequestClose(ctx, id); err != nil {
		t.Fatal(err)
	}
	asked := time.Now()
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		t.Fatal("the job went on after its channel's close request")
	}
	t.Logf("the job ended %v after the close request was mined: %+v, %v", o.at.Sub(asked).Round(time.Millisecond), o.res, o.err)
	if o.res.Error != market.ResultChannelClosing {
		t.Errorf("result error %q, want %s", o.res.Error, market.ResultChannelClosing)
	}
	if o.at.Sub(asked) > time.Minute {
		t.Errorf("the job ran %v past the close request", o.at.Sub(asked))
	}
	var best wallet.SignedVoucher
	testenv.WaitFor(t, "the best voucher settled on chain", time.Minute, func() bool {
		if best, err = prov.wallet.Ledger.BestVoucher(ctx, id); err != nil && !errors.Is(err, wallet.ErrNotFound) {
			t.Fatal(err)
		}
		settled, err := rb.Settled(ctx, id)
		return err == nil && settled > 0 && settled == best.Cumulative
	})
	if wallet.Amount(o.res.Units) != best.Cumulative {
		t.Errorf("the requester paid %d units, the provider's best voucher is %s", o.res.Units, best.Cumulative)
	}
	t.Logf("settled %s on chain", best.Cumulative)
}

// TestChainVoucherBase plays a requester that reuses a channel and names
// a voucher base (the agreement's voucher_base) the provider must not
// accept: below what the channel's vouchers already claim (its new
// vouchers would be worth nothing until they passed the old ones), or so
// high that what is left above it cannot pay the job; and any base in
// the embedded ledger, whose IOU channels pay one job. Each is refused
// before work, against a channel on geth --dev.
func TestChainVoucherBase(t *testing.T) {
	d := newDevChain(t)
	prov := startProvider(t, 100, market.WalletCredit{}, d.onChain(t))
	ctx := context.Background()
	rb := d.backend(t, d.req.Wallet, d.net, d.net.Token)
	payee := prov.prov.Payee()
	reqKey, err := d.req.Wallet.Key()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := rb.OpenFor(ctx, payee, reqKey.Address(), 1_000_000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The provider holds a voucher for 400 000 on the channel.
	if _, err := prov.prov.cfg.Chain.CheckFunding(ctx, ch.ID, reqKey.Address(), 1); err != nil {
		t.Fatal(err)
	}
	v, err := wallet.SignVoucher(rb.Domain(), wallet.Voucher{ChannelID: ch.ID, Cumulative: 400_000}, reqKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prov.wallet.Ledger.RecordVoucher(ctx, &v, common.Hash{}); err != nil {
		t.Fatal(err)
	}
	run := &providerRun{p: prov.prov}
	run.sess.Quote.MaxCost = 500_000
	ag := func(base uint64) *market.AgreementMsg {
		return &market.AgreementMsg{Requester: market.Address(reqKey.Address()), ChannelID: market.Hash(ch.ID), VoucherBase: base,
			StartsAt: uint64(time.Now().Unix()), MaxDurationSeconds: 600}
	}
	for _, tc := range []struct {
		name string
		base uint64
		code market.RefusalCode // "": taken
	}{
		{"below what is held", 100_000, market.RefuseBadAgreement},
		{"what is held", 400_000, ""},
		{"too little left above it", 600_000, market.RefuseUnfunded},
	} {
		ref := run.checkChannel(ctx, ag(tc.base))
		switch {
		case tc.code == "" && ref != nil:
			t.Errorf("%s: refused %v", tc.name, ref)
		case tc.code != "" && (ref == nil || ref.Code != tc.code):
			t.Errorf("%s: %v, want refused with %s", tc.name, ref, tc.code)
		case ref != nil:
			t.Logf("%s: %s", tc.name, ref.Message)
		}
	}
	// A deposit locked for less than the job may run: its payer could
	// withdraw what the job earns while it runs (the lock is an hour).
	long := ag(400_000)
	long.MaxDurationSeconds = 2 * 3600
	if ref := run.checkChannel(ctx, long); ref == nil || ref.Code != market.RefuseShortLock {
		t.Errorf("a job outlasting the channel's lock: %v, want refused with %s", ref, market.RefuseShortLock)
	}
	unlocked, err := rb.Open(ctx, payee, reqKey.Address(), 1_000_000) // the backend's lock: none
	if err != nil {
		t.Fatal(err)
	}
	if ref := run.checkChannel(ctx, &market.AgreementMsg{Requester: market.Address(reqKey.Address()), ChannelID: market.Hash(unlocked.ID),
		StartsAt: uint64(time.Now().Unix()), MaxDurationSeconds: 600}); ref == nil || ref.Code != market.RefuseShortLock {
		t.Errorf("an unlocked channel: %v, want refused with %s", ref, market.RefuseShortLock)
	}
	// Without a chain a base is refused outright.
	iou := startProvider(t, 100, market.WalletCredit{})
	if ref := (&providerRun{p: iou.prov}).checkChannel(ctx, ag(1)); ref == nil || ref.Code != market.RefuseBadAgreement {
		t.Errorf("a voucher base in the embedded ledger: %v, want refused with %s", ref, market.RefuseBadAgreement)
	}
}
