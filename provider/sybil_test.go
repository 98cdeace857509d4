//go:build linux

package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
)

// hostOn starts a test peer's libp2p host listening on the loopback
// address ip only (127.0.0.0/8: Linux answers on all of it), closed when
// the test ends.
func hostOn(t *testing.T, dir, ip string) *p2p.Host {
	t.Helper()
	listen, err := p2p.ParseMultiaddrs([]string{"/ip4/" + ip + "/tcp/0", "/ip4/" + ip + "/udp/0/quic-v1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := p2p.New(ctx, p2p.Config{DataDir: dir, LoopbackOnly: true, NoMDNS: true, Listen: listen, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func onIP(ip string) providerOption { return providerOption{ip: ip} }

// establish gives peer an established record (market.TrustThreshold
// consecutive valid results, a week ago) in trust.
func establish(t *testing.T, trust market.TrustStore, peer string) market.Trust {
	t.Helper()
	var tr market.Trust
	for range market.TrustThreshold {
		var err error
		if tr, err = trust.Record(peer, true, time.Now().Add(-7*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// TestSybilReplicas: cheap identities that agree on a wrong output try
// to outvote an honest provider with an established record, and so get
// it marked invalid (and their output accepted). Before: the K cheapest
// providers ran a replicated job, the sybils were the majority, the
// honest provider's trust dropped and the forged output was taken; a job
// asked to run once ran on the cheapest provider alone, its output never
// checked. After: replicas come from distinct network origins (a /24
// each), a verdict needs an established provider in the majority, and a
// new provider's single-run job is spot-checked on a second provider (a
// third breaking the tie when the two differ).
func TestSybilReplicas(t *testing.T) {
	honest := startProvider(t, 100, market.WalletCredit{}, onIP("127.0.1.1"))
	// Two sybils on one /24, a third on another; all cheap, all lying
	// the same way, so they agree with each other.
	sybilA := startProvider(t, 10, market.WalletCredit{}, liar, onIP("127.0.9.1"))
	sybilB := startProvider(t, 10, market.WalletCredit{}, liar, onIP("127.0.9.2"))
	sybilC := startProvider(t, 10, market.WalletCredit{}, liar, onIP("127.0.8.1"))
	newcomer := startProvider(t, 50, market.WalletCredit{}, onIP("127.0.3.1")) // honest, not yet known
	idHonest := honest.host.ID().String()
	id := func(p *testProvider) string { return p.host.ID().String() }
	sum := sha256.Sum256([]byte(probeAnswer))
	want := hex.EncodeToString(sum[:])

	// submit runs the probe job on replicas providers from a fresh
	// requester connected to ps, which knows the honest provider well.
	type submitted struct {
		trust  *market.MemTrust
		before market.Trust // the honest provider's record before the job
		out    string
		res    market.SubmitResult
		err    error
	}
	submit := func(t *testing.T, replicas int, ps ...*testProvider) submitted {
		t.Helper()
		req := testRequester(t)
		s := submitted{trust: market.NewMemTrust(), out: t.TempDir()}
		req.Trust = s.trust
		s.before = establish(t, s.trust, idHonest)
		connect(t, req, ps...)
		for _, p := range ps {
			origins := market.OriginsOf(remoteAddrs(req.Host, p.host))
			t.Logf("provider %s: origins %v", shortID(id(p)), origins)
		}
		spec := imageSpec(t, req, "probe", "write", "/output/answer.txt")
		spec.Replicas = replicas
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		s.res, s.err = req.Submit(ctx, spec, market.SubmitOptions{OutputDir: s.out, Discovery: 10 * time.Second})
		t.Logf("%d attempt(s), verdict %q, err %v", s.res.Attempts, s.res.Verdict, s.err)
		return s
	}
	// unharmed checks that the honest provider's record did not drop.
	unharmed := func(t *testing.T, s submitted) {
		t.Helper()
		if tr := s.trust.Trust(idHonest); tr.Invalid != 0 || tr.ConsecutiveValid < s.before.ConsecutiveValid || !tr.LastInvalid.IsZero() {
			t.Fatalf("honest provider's trust %+v, was %+v: the sybils got it marked invalid", tr, s.before)
		}
	}
	nothingTaken := func(t *testing.T, s submitted) {
		t.Helper()
		if len(s.res.Outputs) != 0 || len(s.res.Agreed) != 0 || s.res.Provider != "" {
			t.Fatalf("result %+v: the sybils' output was accepted", s.res)
		}
		if ents, err := os.ReadDir(s.out); err != nil || len(ents) != 0 {
			t.Fatalf("output dir holds %d entries (%v); nothing should be fetched", len(ents), err)
		}
	}

	t.Run("sybils on one /24 hold one seat", func(t *testing.T) {
		s := submit(t, 3, honest, sybilA, sybilB)
		if !errors.Is(s.err, market.ErrNoProvider) || !strings.Contains(s.err.Error(), "distinct network origins") {
			t.Fatalf("Submit: %v; want no provider: three replicas need three origins, the sybils are one", s.err)
		}
		if s.res.Attempts != 0 || s.res.Units != 0 {
			t.Fatalf("result %+v: nothing should run or be paid", s.res)
		}
		unharmed(t, s)
		nothingTaken(t, s)
	})

	t.Run("a majority of newcomers cannot mark an established provider invalid", func(t *testing.T) {
		s := submit(t, 3, honest, sybilA, sybilC)
		if !errors.Is(s.err, market.ErrReplicasDisagree) {
			t.Fatalf("Submit: %v; want the disagreement reported, nothing accepted", s.err)
		}
		if !s.res.Inconclusive || !strings.Contains(s.res.Verdict, "inconclusive") || !strings.Contains(s.res.Verdict, "no provider of established trust") {
			t.Fatalf("verdict %q (inconclusive %v): want it inconclusive for want of an established provider", s.res.Verdict, s.res.Inconclusive)
		}
		if s.res.Attempts != 3 {
			t.Fatalf("%d attempts, want the three replicas", s.res.Attempts)
		}
		unharmed(t, s)
		nothingTaken(t, s)
		if tr := s.trust.Trust(idHonest); tr.Inconclusive != 1 {
			t.Fatalf("honest provider's record %+v: want one inconclusive disagreement", tr)
		}
		for _, p := range []*testProvider{sybilA, sybilC} {
			if tr := s.trust.Trust(id(p)); tr.Valid != 0 || tr.Inconclusive != 1 {
				t.Fatalf("sybil %s record %+v: outvoting earns no trust", shortID(id(p)), tr)
			}
		}
	})

	t.Run("a cheap newcomer's single run is spot-checked", func(t *testing.T) {
		s := submit(t, 1, honest, sybilC)
		if !s.res.SpotCheck || s.res.Attempts != 2 {
			t.Fatalf("result %+v: want the job run twice, the second run a spot check", s.res)
		}
		if !errors.Is(s.err, market.ErrReplicasDisagree) || !s.res.Inconclusive {
			t.Fatalf("Submit: %v; want the sybil's forged output caught, nothing accepted", s.err)
		}
		if !slices.ContainsFunc(s.res.Tries, func(tr market.Try) bool { return tr.Provider == id(sybilC) && tr.Replica == 0 }) {
			t.Fatalf("tries %+v: the cheapest provider should have run the job", s.res.Tries)
		}
		unharmed(t, s)
		nothingTaken(t, s)
	})

	t.Run("a third run breaks a failed spot check's tie", func(t *testing.T) {
		s := submit(t, 1, honest, sybilC, newcomer)
		if s.err != nil {
			t.Fatalf("Submit: %v", s.err)
		}
		if !s.res.SpotCheck || s.res.Attempts != 3 || s.res.Inconclusive || !strings.Contains(s.res.Verdict, "tie broken") {
			t.Fatalf("result %+v: want a spot check, a tie-break and a verdict", s.res)
		}
		if !slices.Equal(s.res.Dissent, []string{id(sybilC)}) || s.res.Provider == id(sybilC) {
			t.Fatalf("dissent %v, provider %s: want the sybil outvoted", s.res.Dissent, s.res.Provider)
		}
		if len(s.res.Outputs) != 1 || s.res.Outputs[0].SHA256 != want {
			t.Fatalf("outputs %+v, want answer.txt with sha256 %s", s.res.Outputs, want)
		}
		if tr := s.trust.Trust(id(sybilC)); tr.Invalid != 1 || tr.LastInvalid.IsZero() {
			t.Fatalf("sybil's record %+v: want it marked invalid", tr)
		}
		unharmed(t, s)
	})

	t.Run("an honest newcomer passes its spot check", func(t *testing.T) {
		s := submit(t, 1, honest, newcomer)
		if s.err != nil {
			t.Fatalf("Submit: %v", s.err)
		}
		if !s.res.SpotCheck || s.res.Attempts != 2 || s.res.Inconclusive || !strings.Contains(s.res.Verdict, "spot check: 2 replicas agree") {
			t.Fatalf("result %+v: want a spot check that agrees", s.res)
		}
		if len(s.res.Outputs) != 1 || s.res.Outputs[0].SHA256 != want {
			t.Fatalf("outputs %+v, want answer.txt with sha256 %s", s.res.Outputs, want)
		}
		if tr := s.trust.Trust(id(newcomer)); tr.Valid != 1 || tr.ConsecutiveValid != 1 {
			t.Fatalf("newcomer's record %+v: want one valid result", tr)
		}
		if tr := s.trust.Trust(idHonest); tr.ConsecutiveValid != s.before.ConsecutiveValid+1 {
			t.Fatalf("honest provider's record %+v: want one more valid result", tr)
		}
	})
}

// remoteAddrs are the remote addresses of h's connections to p.
func remoteAddrs(h, p *p2p.Host) []multiaddr.Multiaddr {
	var out []multiaddr.Multiaddr
	for _, c := range h.LibP2P().Network().ConnsToPeer(p.ID()) {
		out = append(out, c.RemoteMultiaddr())
	}
	return out
}

func shortID(id string) string { return id[len(id)-6:] }
