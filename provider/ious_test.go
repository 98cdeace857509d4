package provider

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet/wallettest"
)

// poolHost is a loopback host in the private pool named pool.
func poolHost(t *testing.T, dir, pool string) *p2p.Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := p2p.New(ctx, p2p.Config{DataDir: dir, LoopbackOnly: true, NoMDNS: true, Pool: pool, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// TestIOUsOnlyFromFriends: a provider on the public network without a
// chain takes jobs paid in IOUs only from the peers its owner named, or
// from anyone once the owner opts in; the refusal has its own code and
// the status sentence says so. In a private pool every member's are taken.
// Real hosts on loopback, real jobs in the sandbox.
func TestIOUsOnlyFromFriends(t *testing.T) {
	run := func(t *testing.T, req *market.Requester) (market.SubmitResult, error) {
		spec := imageSpec(t, req, "probe", "exit", "0")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second, MaxAttempts: 1})
	}

	t.Run("public network", func(t *testing.T) {
		prov := startProvider(t, 100, market.WalletCredit{}, providerOption{config: func(c *Config) { c.IOUs = IOUs{} }})
		req := testRequester(t)
		connect(t, req, prov)
		res, err := run(t, req)
		if err == nil || len(res.Tries) != 1 || !strings.Contains(res.Tries[0].Error, string(market.RefuseIOUStranger)) {
			t.Fatalf("a stranger's IOU job: %+v, %v; want refused with %s", res, err, market.RefuseIOUStranger)
		}
		if !strings.Contains(res.Tries[0].Error, req.Host.ID().String()) {
			t.Errorf("the refusal does not name the peer ID to give the owner: %s", res.Tries[0].Error)
		}
		if b := balance(t, prov.wallet); b.Earned != 0 {
			t.Errorf("the provider earned %s from a refused job", b.Earned)
		}
		if st := prov.prov.cfg.Host; st.Network() != "public" {
			t.Fatalf("the provider is on %q, not the public network", st.Network())
		}
		s := prov.prov.d.Status() // the daemon's, with the provider's part
		if !strings.Contains(s.Sentence, "refused") || !strings.Contains(s.Sentence, "IOUs") {
			t.Errorf("status sentence %q does not say work was refused from a stranger paying in IOUs", s.Sentence)
		}

		// The owner names the requester: its IOUs are taken.
		prov.prov.SetIOUPolicy(false, []peer.ID{req.Host.ID()})
		if res, err := run(t, req); err != nil || res.ExitCode != 0 {
			t.Fatalf("a named peer's IOU job: %+v, %v", res, err)
		}
		// Another stranger is still refused.
		other := testRequester(t)
		connect(t, other, prov)
		if res, err := run(t, other); err == nil || !strings.Contains(res.Tries[0].Error, string(market.RefuseIOUStranger)) {
			t.Fatalf("a second stranger: %+v, %v; want refused", res, err)
		}
		// The owner opts in to strangers' IOUs.
		prov.prov.SetIOUPolicy(true, nil)
		if res, err := run(t, other); err != nil || res.ExitCode != 0 {
			t.Fatalf("a stranger's IOU job after opting in: %+v, %v", res, err)
		}
	})

	t.Run("private pool", func(t *testing.T) {
		prov := startProvider(t, 100, market.WalletCredit{}, providerOption{config: func(c *Config) { c.IOUs = IOUs{} },
			host: func(dir string) *p2p.Host { return poolHost(t, dir, "friends") }})
		dir := t.TempDir()
		req := &market.Requester{Host: poolHost(t, dir, "friends"), Wallet: wallettest.Open(t, dir),
			Blobs: p2p.FileStore{Dir: filepath.Join(dir, "blobs")}, Log: quietLogger()}
		connect(t, req, prov)
		if res, err := run(t, req); err != nil || res.ExitCode != 0 {
			t.Fatalf("a pool member's IOU job: %+v, %v", res, err)
		}
	})
}
