//go:build linux

package provider

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p/wire"
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
)

// The hostile behaviours, one per stream, in turn: malformed streams from
// one host, valid-looking proposals from another (a host holding idle
// streams fills its own per-peer quota, so its proposals would rarely be
// read).
var (
	junkKinds     = []string{"idle", "partial", "junk", "oversized", "bad-proposal", "out-of-order"}
	proposalKinds = []string{"proposal", "proposal-hold"}
)

// streamLog is what the hostile side saw of its streams.
type streamLog struct {
	mu       sync.Mutex
	opened   int
	failed   int // NewStream itself failed (reset by a limit)
	quotes   int
	refusals int
	longest  map[string]time.Duration
}

func (l *streamLog) add(kind string, d time.Duration, got market.Message, openErr error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if openErr != nil {
		l.failed++
		return
	}
	l.opened++
	l.longest[kind] = max(l.longest[kind], d)
	switch got.(type) {
	case *market.QuoteMsg:
		l.quotes++
	case *market.RefusalMsg:
		l.refusals++
	}
}

func hostileHost(t *testing.T, prov *testProvider) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Connect(ctx, prov.host.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	return h
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// floodProposal is a valid-looking proposal for an image nobody serves.
func floodProposal() *market.Proposal {
	spec := market.JobSpec{Image: market.Image{Digest: market.Digest("sha256:" + randomHex(32)), Size: 1 << 20, Blob: true},
		Command:   []string{"sleep", "1h"},
		Resources: market.Resources{CPUs: 1000, Memory: 64 << 20}, MaxDuration: market.Duration(time.Minute), MaxPrice: 1000}
	var req market.Address
	_, _ = rand.Read(req[:])
	return &market.Proposal{JobID: market.JobID(randomHex(16)), Spec: spec, Requester: req}
}

// hostileStream opens one job stream and misbehaves as kind says, then
// reads until the provider answers, closes or resets it. It returns how
// long the stream lived and the first message the provider sent.
func hostileStream(ctx context.Context, h host.Host, prov *testProvider, kind string) (time.Duration, market.Message, error) {
	s, err := h.NewStream(ctx, prov.host.ID(), protocol.ID(market.ProtocolID))
	if err != nil {
		return 0, nil, err
	}
	start := time.Now()
	defer s.Reset()
	_ = s.SetDeadline(start.Add(4 * floodStreamBound)) // a guard: the provider's deadlines must come first
	var first market.Message
	readAll := func() {
		for {
			m, err := market.ReadMessage(s)
			if err != nil {
				return
			}
			if first == nil {
				first = m
			}
		}
	}
	switch kind {
	case "idle":
	case "partial": // a frame length that promises bytes never sent
		_, _ = s.Write(binary.AppendUvarint(nil, 4096))
		_, _ = s.Write([]byte{1, 1, '{'})
	case "junk":
		b := make([]byte, 512)
		_, _ = rand.Read(b)
		_, _ = s.Write(b)
	case "oversized":
		_, _ = s.Write(binary.AppendUvarint(nil, 1<<30))
		_, _ = s.Write(make([]byte, 4096))
	case "proposal":
		_ = market.WriteMessage(s, floodProposal())
		first, _ = market.ReadMessage(s)
		return time.Since(start), first, nil // and reset at once
	case "proposal-hold": // quoted, never agrees, never leaves
		_ = market.WriteMessage(s, floodProposal())
	case "bad-proposal":
		_ = wire.WriteFrame(s, market.MaxFrame, wire.Envelope{Type: uint64(market.TypeProposal), Version: market.Version1,
			Payload: []byte(`{"job_id":"` + randomHex(16) + `","spec":{"image":{"digest":"sha256:00"},"resources":{"cpu_millis":0}},"requester":"0x00"}`)})
	case "out-of-order":
		_ = market.WriteMessage(s, &market.Voucher{JobID: market.JobID(randomHex(16)), ChannelID: market.Hash{1}, Cumulative: 1 << 40})
	}
	readAll()
	return time.Since(start), first, nil
}

// flood runs floodWorkers loops of hostile streams until ctx ends.
func flood(ctx context.Context, h host.Host, prov *testProvider, log *streamLog, kinds []string) {
	var wg sync.WaitGroup
	for w := range floodWorkers {
		wg.Go(func() {
			for i := w; ctx.Err() == nil; i++ {
				kind := kinds[i%len(kinds)]
				d, first, err := hostileStream(context.WithoutCancel(ctx), h, prov, kind)
				log.add(kind, d, first, err)
			}
		})
	}
	wg.Wait()
}

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

	junk, proposer := hostileHost(t, prov), hostileHost(t, prov)
	log := &streamLog{longest: map[string]time.Duration{}}
	stopHeap := make(chan struct{})
	peakHeap := heapSampler(stopHeap)
	floodCtx, stopFlood := context.WithCancel(context.Background())
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		var wg sync.WaitGroup
		wg.Go(func() { flood(floodCtx, junk, prov, log, junkKinds) })
		wg.Go(func() { flood(floodCtx, proposer, prov, log, proposalKinds) })
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
		log.opened, log.failed, log.quotes, log.refusals, st.Admitted, st.Refused, st.Peak, st.PeakPerPeer, log.longest)
	if st.PeakPerPeer > MaxSessionsPerPeer || st.Peak > 2*MaxSessionsPerPeer+1 {
		t.Fatalf("peak %d streams, %d for one peer: the per-peer limit is %d", st.Peak, st.PeakPerPeer, MaxSessionsPerPeer)
	}
	if st.Refused < uint64(floodWorkers) || log.quotes == 0 {
		t.Fatalf("the flood did not reach the limits (%d refused) or no proposal was quoted (%d)", st.Refused, log.quotes)
	}
	for kind, d := range log.longest {
		if d > floodStreamBound {
			t.Errorf("a %s stream stayed open %v, past the provider's deadlines (%v)", kind, d, floodStreamBound)
		}
	}
	// Which stalling streams win the junk host's two slots depends on
	// timing; one of them must have been held until the proposal deadline.
	if d := max(log.longest["idle"], log.longest["partial"]); d < floodProposalTimeout-time.Second {
		t.Errorf("no idle or partial stream was held to the proposal deadline (longest %v of %v): were any admitted?", d, floodProposalTimeout)
	}
	if d := log.longest["proposal-hold"]; d < floodQuoteTTL {
		t.Errorf("no quoted stream was held to the quote's expiry (longest %v)", d)
	}
	if grew := int64(peak) - int64(baseHeap); grew > floodHeapBound {
		t.Errorf("heap in use grew by %d MiB during the flood, bound %d MiB", grew>>20, floodHeapBound>>20)
	}

	junk.Close()
	proposer.Close()
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
	hosts := make([]host.Host, n)
	for i := range hosts {
		hosts[i] = hostileHost(t, prov)
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
				d, _, err := hostileStream(context.Background(), h, prov, "idle")
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
