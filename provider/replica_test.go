//go:build linux

package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/hostile"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// probeAnswer is what `probe write PATH` writes.
const probeAnswer = "written by probe\n"

// liar makes a provider overwrite every output of its jobs before hashing
// and serving it; liars agree with each other.
var liar = dishonest(hostile.Forge("forged by the provider\n"))

// TestReplicasCatchWrongOutput: three providers on three /24s, one of
// which rewrites its outputs. With three replicas the two honest ones,
// one of them with an established record, outvote it: the requester
// takes their output, names the dissenter and lowers its trust. With two
// replicas (the liar and one honest provider) nobody has a majority:
// nothing is accepted and nobody's trust moves (each record counts the
// inconclusive disagreement).
func TestReplicasCatchWrongOutput(t *testing.T) {
	honestA := startProvider(t, 100, market.WalletCredit{}, onIP("127.0.1.1"))
	lying := startProvider(t, 100, market.WalletCredit{}, liar, onIP("127.0.2.1"))
	honestB := startProvider(t, 150, market.WalletCredit{}, onIP("127.0.3.1")) // dearer: over the max price when two replicas are asked for
	idA, idLiar, idB := honestA.host.ID().String(), lying.host.ID().String(), honestB.host.ID().String()
	sum := sha256.Sum256([]byte(probeAnswer))
	want := hex.EncodeToString(sum[:])

	// replicated is one submission of the probe job, on replicas providers,
	// from a fresh requester with a trust store of its own.
	type replicated struct {
		req   *market.Requester
		trust *market.MemTrust
		spec  *market.JobSpec
		out   string
		res   market.SubmitResult
		err   error
	}
	submit := func(t *testing.T, replicas int, maxPrice uint64) replicated {
		r := replicated{req: testRequester(t), trust: market.NewMemTrust(), out: t.TempDir()}
		r.req.Trust = r.trust
		establish(t, r.trust, idA)
		connect(t, r.req, honestA, lying, honestB)
		r.spec = imageSpec(t, r.req, "probe", "write", "/output/answer.txt")
		r.spec.Replicas, r.spec.MaxPrice = replicas, maxPrice
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		r.res, r.err = r.req.Submit(ctx, r.spec, market.SubmitOptions{OutputDir: r.out, Discovery: 10 * time.Second})
		return r
	}

	t.Run("majority", func(t *testing.T) {
		r := submit(t, 3, 1000)
		req, trust, spec, res, err := r.req, r.trust, r.spec, r.res, r.err
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
		t.Logf("verdict: %s", res.Verdict)
		if !slices.Equal(res.Agreed, slices.Sorted(slices.Values([]string{idA, idB}))) || !slices.Equal(res.Dissent, []string{idLiar}) {
			t.Fatalf("agreed %v, dissent %v; want the honest %v and the liar %s", res.Agreed, res.Dissent, []string{idA, idB}, idLiar)
		}
		if !strings.Contains(res.Verdict, "dissent") || !strings.Contains(res.Verdict, idLiar) {
			t.Fatalf("verdict %q does not name the dissenter", res.Verdict)
		}
		if res.Provider == idLiar || res.ExitCode != 0 || res.Attempts != 3 {
			t.Fatalf("result %+v", res)
		}
		if len(res.Outputs) != 1 || res.Outputs[0].Path != "answer.txt" || res.Outputs[0].SHA256 != want {
			t.Fatalf("outputs %+v, want answer.txt with sha256 %s", res.Outputs, want)
		}
		if b, err := os.ReadFile(filepath.Join(res.OutputDir, "answer.txt")); err != nil || res.OutputDir != filepath.Join(r.out, res.Job) || string(b) != probeAnswer {
			t.Fatalf("fetched answer.txt = %q, %v; want the honest providers' %q", b, err, probeAnswer)
		}
		now := time.Now()
		if tr := trust.Trust(idLiar); tr.Invalid != 1 || tr.Valid != 0 || tr.ConsecutiveValid != 0 || now.Sub(tr.LastInvalid) > time.Minute {
			t.Fatalf("liar's trust %+v: want one invalid result just now", tr)
		}
		if tr := trust.Trust(idA); tr.ConsecutiveValid != market.TrustThreshold+1 || tr.Invalid != 0 {
			t.Fatalf("established honest %s trust %+v: want one more valid result", idA, tr)
		}
		if tr := trust.Trust(idB); tr.Valid != 1 || tr.ConsecutiveValid != 1 || tr.Invalid != 0 {
			t.Fatalf("honest %s trust %+v: want one valid result", idB, tr)
		}
		// Next time the liar ranks last, behind a dearer honest provider.
		ranked := market.Rank(spec, []market.Offer{
			{Peer: idA, CPUs: 4000, Price: market.Price{PerCPUSecond: 100}},
			{Peer: idLiar, CPUs: 4000, Price: market.Price{PerCPUSecond: 100}},
			{Peer: idB, CPUs: 4000, Price: market.Price{PerCPUSecond: 150}},
		}, trust.Trust, now)
		if len(ranked) != 3 || ranked[2].Peer != idLiar {
			t.Fatalf("ranking after the verdict: %+v; want the liar last", ranked)
		}
		// Every provider did the work and is paid for it; the money adds up.
		testenv.WaitFor(t, "the final vouchers", 15*time.Second, func() bool {
			return balance(t, honestA.wallet).Earned+balance(t, lying.wallet).Earned+balance(t, honestB.wallet).Earned == wallet.Amount(res.Units)
		})
		if spent := balance(t, req.Wallet).Spent; uint64(spent) != res.Units || spent <= 0 {
			t.Fatalf("requester spent %s, result says %d", spent, res.Units)
		}
	})

	t.Run("no majority", func(t *testing.T) {
		r := submit(t, 2, 120)
		trust, out, res, err := r.trust, r.out, r.res, r.err
		if !errors.Is(err, market.ErrReplicasDisagree) {
			t.Fatalf("Submit: %v (result %+v); want ErrReplicasDisagree", err, res)
		}
		t.Logf("error: %v", err)
		if len(res.Agreed) != 0 || len(res.Outputs) != 0 || res.Provider != "" || !strings.Contains(res.Verdict, "no majority") {
			t.Fatalf("result %+v: want no accepted result and a verdict without majority", res)
		}
		if !strings.Contains(res.Verdict, idA) || !strings.Contains(res.Verdict, idLiar) {
			t.Fatalf("verdict %q does not name both providers", res.Verdict)
		}
		if ents, err := os.ReadDir(out); err != nil || len(ents) != 0 {
			t.Fatalf("output dir holds %d entries (%v); nothing should be fetched", len(ents), err)
		}
		if tr := trust.Trust(idA); tr.ConsecutiveValid != market.TrustThreshold || tr.Invalid != 0 || tr.Inconclusive != 1 {
			t.Fatalf("%s trust %+v: nobody can tell who was right, so only the disagreement is recorded", idA, tr)
		}
		if tr := trust.Trust(idLiar); tr.Valid != 0 || tr.Invalid != 0 || tr.Inconclusive != 1 {
			t.Fatalf("%s trust %+v: nobody can tell who was right, so only the disagreement is recorded", idLiar, tr)
		}
	})
}
