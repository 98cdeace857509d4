//go:build linux

package provider

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/hostile"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// Limits of the flood test.
const (
	// floodProposalTimeout replaces ProposalTimeout: long enough for the
	// sybils of the total-limit phase to open all their streams and hold
	// them while a legitimate job is proposed, short enough for the test.
	floodProposalTimeout = 8 * time.Second
	// floodQuoteTTL is the provider's quote lifetime: a quoted stream that
	// never agrees is dropped at its expiry plus 5 s.
	floodQuoteTTL = 2 * time.Second
	// floodStreamBound is the longest any hostile stream may stay open:
	// the later of the two deadlines, plus scheduling slack.
	floodStreamBound = max(floodProposalTimeout, floodQuoteTTL+5*time.Second) + 3*time.Second
	// floodHeapBound is how far the process's heap in use may rise over
	// its baseline while the flood runs (everything in this process:
	// provider, requester and the hostile host).
	floodHeapBound = 64 << 20
	// floodHeapAfterBound is how far it may stay above the baseline once
	// the flood is over and a GC ran.
	floodHeapAfterBound = 16 << 20
	// floodGoroutineSlack is how many goroutines above the baseline are
	// tolerated after the flood (libp2p's background work comes and goes).
	floodGoroutineSlack = 8
	floodWorkers        = 8
	// floodGuard is how long a hostile stream waits before giving up on
	// its own: the provider's deadlines must come first.
	floodGuard = 4 * floodStreamBound
)

// heapSampler records the highest heap in use until stop is closed.
func heapSampler(stop <-chan struct{}) <-chan uint64 {
	peak := make(chan uint64, 1)
	go func() {
		var top uint64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapInuse)
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	return peak
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestProposalFlood: two hostile hosts open job streams as fast as eight
// loops each can (one: idle, half a frame, junk, oversized frames,
// invalid proposals, messages out of order; the other: valid proposals,
// dropped at once or held after the quote) while a
// legitimate requester's job runs on the same provider. The job
// completes and is paid exactly; no hostile peer holds more than
// MaxSessionsPerPeer streams; every stream they opened ends by the
// provider's deadlines; the heap stays within floodHeapBound and the
// goroutines return to the baseline. Then sybils (one host per
// MaxSessionsPerPeer streams, one more than the total allows) fill the
// provider with idle streams: it never serves more than MaxSessions, and
// a legitimate job still gets in, evicting an idle stream.
func TestProposalFlood(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{}, providerOption{
		config: func(c *Config) { c.Policy.QuoteTTL = floodQuoteTTL },
		// Pending streams may be evicted at once (the grace period is
		// TestAdmissions'), so the sybils' can make room for a legitimate
		// job the moment it is proposed.
		provider: func(p *Provider) { p.setStreamLimits(MaxSessionsPerPeer, MaxSessions, floodProposalTimeout, 0) },
	})
	req := testRequester(t)
	connect(t, req, prov)
	spec := imageSpec(t, req, "probe", "sleep", "4s")

	baseGoroutines, baseHeap := runtime.NumGoroutine(), heapInUse()
	t.Logf("baseline: %d goroutines, heap in use %d KiB", baseGoroutines, baseHeap>>10)

	junk := hostile.NewFlooder(t, prov.host.AddrInfo(), floodGuard)
	proposer := hostile.NewFlooder(t, prov.host.AddrInfo(), floodGuard)
	log := &hostile.StreamLog{}
	stopHeap := make(chan struct{})
	peakHeap := heapSampler(stopHeap)
	floodCtx, stopFlood := context.WithCancel(context.Background())
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		var wg sync.WaitGroup
		wg.Go(func() { junk.Flood(floodCtx, floodWorkers, log, hostile.Malformed...) })
		wg.Go(func() { proposer.Flood(floodCtx, floodWorkers, log, hostile.Proposals...) })
		wg.Wait()
	}()
	// The flood is under way before the legitimate proposal goes out.
	testenv.WaitFor(t, "the flood to start", 10*time.Second, func() bool { return prov.prov.Streams().Refused > 0 })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second})
	stopFlood()
	<-flooded
	close(stopHeap)
	peak := <-peakHeap
	if err != nil {
		t.Fatalf("Submit during the flood: %v", err)
	}
	if res.ExitCode != 0 || res.Attempts != 1 || res.Provider != prov.host.ID().String() {
		t.Fatalf("result %+v", res)
	}
	testenv.WaitFor(t, "the final voucher", 10*time.Second, func() bool { return balance(t, prov.wallet).Earned == wallet.Amount(res.Units) })
	if spent := balance(t, req.Wallet).Spent; spent != wallet.Amount(res.Units) || spent <= 0 {
		t.Fatalf("requester spent %s, provider earned %s, result says %d", spent, balance(t, prov.wallet).Earned, res.Units)
	}

	st := prov.prov.Streams()
	t.Logf("flood: %d streams opened (%d more failed to open), %d quotes, %d refusals; provider admitted %d, refused %d, peak %d (%d for one peer); longest %v",
		log.Opened, log.Failed, log.Quotes, log.Refusals, st.Admitted, st.Refused, st.Peak, st.PeakPerPeer, log.Longest)
	if st.PeakPerPeer > MaxSessionsPerPeer || st.Peak > 2*MaxSessionsPerPeer+1 {
		t.Fatalf("peak %d streams, %d for one peer: the per-peer limit is %d", st.Peak, st.PeakPerPeer, MaxSessionsPerPeer)
	}
	if st.Refused < uint64(floodWorkers) || log.Quotes == 0 {
		t.Fatalf("the flood did not reach the limits (%d refused) or no proposal was quoted (%d)", st.Refused, log.Quotes)
	}
	for kind, d := range log.Longest {
		if d > floodStreamBound {
			t.Errorf("a %s stream stayed open %v, past the provider's deadlines (%v)", kind, d, floodStreamBound)
		}
	}
	// Which stalling streams win the junk host's two slots depends on
	// timing; one of them must have been held until the proposal deadline.
	if d := max(log.Longest[hostile.Idle], log.Longest[hostile.Partial]); d < floodProposalTimeout-time.Second {
		t.Errorf("no idle or partial stream was held to the proposal deadline (longest %v of %v): were any admitted?", d, floodProposalTimeout)
	}
	if d := log.Longest[hostile.ProposeAndHold]; d < floodQuoteTTL {
		t.Errorf("no quoted stream was held to the quote's expiry (longest %v)", d)
	}
	if grew := int64(peak) - int64(baseHeap); grew > floodHeapBound {
		t.Errorf("heap in use grew by %d MiB during the flood, bound %d MiB", grew>>20, floodHeapBound>>20)
	}

	junk.Host.Close()
	proposer.Host.Close()
	testenv.WaitFor(t, "the provider to drop the hostile streams", floodStreamBound, func() bool { return prov.prov.Streams().Open == 0 })
	testenv.WaitFor(t, "goroutines back to the baseline", 30*time.Second, func() bool {
		return runtime.NumGoroutine() <= baseGoroutines+floodGoroutineSlack
	})
	after := heapInUse()
	t.Logf("heap in use: baseline %d KiB, peak %d KiB, after %d KiB; goroutines %d (baseline %d)",
		baseHeap>>10, peak>>10, after>>10, runtime.NumGoroutine(), baseGoroutines)
	if int64(after)-int64(baseHeap) > floodHeapAfterBound {
		t.Errorf("heap in use stayed %d KiB above the baseline after the flood, bound %d KiB", (int64(after)-int64(baseHeap))>>10, floodHeapAfterBound>>10)
	}

	t.Run("sybils fill the total", func(t *testing.T) { sybilFlood(t, prov, req, spec) })
}

// sybilFlood: one host more than MaxSessions/MaxSessionsPerPeer, each
// opening one stream more than MaxSessionsPerPeer, all idle at once. The
// provider never serves more than MaxSessions: the surplus evicts the
// oldest idle streams. While they fill it, a legitimate requester's
// proposal evicts one too and its job runs and is paid; the rest end at
// the proposal deadline.
func sybilFlood(t *testing.T, prov *testProvider, req *market.Requester, spec *market.JobSpec) {
	n := MaxSessions/MaxSessionsPerPeer + 1
	per := MaxSessionsPerPeer + 1
	hosts := make([]*hostile.Flooder, n)
	for i := range hosts {
		hosts[i] = hostile.NewFlooder(t, prov.host.AddrInfo(), floodGuard)
	}
	before := prov.prov.Streams()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var longest time.Duration
	var opened int
	start := make(chan struct{})
	for _, h := range hosts {
		for range per {
			wg.Go(func() {
				<-start
				d, _, err := h.Stream(context.Background(), hostile.Idle)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					opened++
					longest = max(longest, d)
				}
			})
		}
	}
	close(start)
	// Every sybil stream reached the handler; the provider is full.
	testenv.WaitFor(t, "the sybil streams to arrive", floodProposalTimeout/2, func() bool {
		st := prov.prov.Streams()
		return st.Admitted+st.Refused-before.Admitted-before.Refused == uint64(n*per)
	})
	full := prov.prov.Streams()
	if full.Open != MaxSessions {
		t.Fatalf("%d streams open after the sybils arrived, want the total limit %d", full.Open, MaxSessions)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	earned := balance(t, prov.wallet).Earned
	res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second})
	if err != nil || res.ExitCode != 0 || res.Attempts != 1 {
		t.Fatalf("Submit while sybils fill the provider: %+v, %v", res, err)
	}
	wg.Wait()
	st := prov.prov.Streams()
	t.Logf("sybils: %d hosts opened %d of %d streams; provider admitted %d, refused %d, evicted %d (%d for the job), peak %d; longest %v",
		n, opened, n*per, st.Admitted-before.Admitted, st.Refused-before.Refused, st.Evicted-before.Evicted, st.Evicted-full.Evicted, st.Peak, longest)
	if st.Peak != MaxSessions {
		t.Fatalf("peak %d streams served at once, the total limit is %d", st.Peak, MaxSessions)
	}
	// Every stream past the total either evicted an idle one or was
	// refused by its peer's limit; at least the streams within the per-peer
	// limits past the total evicted. (An evicted stream frees its peer's
	// slot, so a third stream may get in: the split depends on timing.)
	ev, ref := full.Evicted-before.Evicted, full.Refused-before.Refused
	if ev+ref != uint64(n*per-MaxSessions) || ev < uint64(n*MaxSessionsPerPeer-MaxSessions) {
		t.Fatalf("sybils: %d evicted, %d refused; want %d in all, at least %d evicted", ev, ref, n*per-MaxSessions, n*MaxSessionsPerPeer-MaxSessions)
	}
	if st.Evicted == full.Evicted {
		t.Fatal("the job's stream got in without evicting an idle one: did the sybils' streams end first?")
	}
	testenv.WaitFor(t, "the final voucher", 10*time.Second, func() bool { return balance(t, prov.wallet).Earned-earned == wallet.Amount(res.Units) })
	if longest > floodStreamBound {
		t.Fatalf("a sybil stream stayed open %v, past the proposal deadline (%v)", longest, floodProposalTimeout)
	}
	testenv.WaitFor(t, "the served streams to end", floodStreamBound, func() bool { return prov.prov.Streams().Open == 0 })
}
