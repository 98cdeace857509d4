package market

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/sparegpu/spare/p2p"
)

// BenchmarkDiscoverMatch is the scale harness: a bootstrap node and
// SPARE_BENCH_PROVIDERS (default 200) provider hosts in this process on
// loopback, each serving its ad on AdProtocol, advertising "gpu:nvidia" in
// the DHT and publishing its ad on the ads topic as a `spare node` does.
// Times and counts are medians over the iterations. Each iteration starts
// two new requesters that know only the bootstrap
// node and run the discovery and ranking of `spare submit`
// (Requester.discover, then Rank):
//
//   - match-ms: until discover returns a ranked match for a one-replica
//     job (what `spare submit` waits before proposing: after the first
//     fitting ads, settleDiscover and then the ad queries still in flight,
//     at most maxSettleDiscover), with match-seen providers heard from by
//     then and match-best-frac the share of matches that ranked the
//     cheapest provider first;
//
//   - all-ms: until a second requester, asking for as many replicas as
//     there are providers, has the ads of all of them ranked (settleDiscover
//     not counted);
//
//   - start-ms: the requester's own host start (bootstrap dial, DHT join),
//     before either of the above.
//
// After the iterations one ad round (every provider publishes once) is
// measured with GossipSub byte counters on every host:
//
//   - adB/provider/min: bytes sent by all hosts to carry one provider's ads,
//     for one round every p2p.AdRepublish plus the idle gossip between
//     rounds: the network-wide cost of one provider;
//
//   - adB/host/min: the same total divided among all hosts: what each node
//     sends per minute to carry everyone's ads (it receives about as much);
//
//   - ads-received-frac: the share of the round's ads that reached a
//     requester joined beforehand, within maxAdRound of the first (the
//     round's publications are spread over adRoundSpread);
//
//   - copies/ad/host: how many copies of each ad every host sent on
//     average (GossipSub's mesh redundancy, plus answers to IWANT).
//
//     SPARE_BENCH_PROVIDERS=200 go test ./market -run '^$' -bench DiscoverMatch -benchtime 3x -timeout 30m
func BenchmarkDiscoverMatch(b *testing.B) {
	n := benchProviders(b)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	progress := func(f string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+f+"\n", args...) }
	boot := benchHost(ctx, b, p2p.Config{BootstrapNode: true})

	start := time.Now()
	providers := make([]*p2p.Host, n)
	var wg sync.WaitGroup
	var started atomic.Int32
	sem := make(chan struct{}, benchStartParallel)
	for i := range providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			providers[i] = benchProvider(ctx, b, boot, i)
			if c := started.Add(1); c%50 == 0 {
				progress("%d providers started after %s", c, time.Since(start).Round(time.Millisecond))
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	progress("%d providers up, advertised and publishing in %s", n, time.Since(start).Round(time.Millisecond))
	// A requester arrives in a network in its steady state: let the
	// start-up's second round of provider records (p2p.AdvertiseRetry
	// after each start) pass first.
	time.Sleep(p2p.AdvertiseRetry + 5*time.Second)
	links := 0
	for _, p := range providers {
		links += len(p.Peers())
	}
	progress("providers have %.1f peers each on average", float64(links)/float64(n))
	// The cheapest provider (see benchProvider) is the one a full view ranks
	// first.
	best := providers[0].ID().String()

	spec := &JobSpec{
		Kind: KindInference, Image: Image{Digest: Digest("sha256:" + fmt.Sprintf("%064x", 1)), Size: 1 << 20, Blob: true},
		Command: []string{"true"}, Resources: Resources{GPUs: 1, VRAM: 4 << 30, CPUs: 2000, Memory: 4 << 30}, MaxPrice: 1000,
	}
	if err := spec.Validate(); err != nil {
		b.Fatal(err)
	}
	opt := SubmitOptions{Capability: "gpu:nvidia", Discovery: DefaultDiscovery}
	var startT, matchT, allT, seen []float64
	var bestHits int
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		r := &Requester{Host: benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs()}), Trust: NewMemTrust(), Log: benchLog}
		startT = append(startT, ms(time.Since(t0)))
		t0 = time.Now()
		ads, ranked, err := r.discover(ctx, spec, 1, opt)
		if err != nil {
			b.Fatal(err)
		}
		matchT = append(matchT, ms(time.Since(t0)))
		seen = append(seen, float64(len(ads)))
		if ranked[0].Peer == best {
			bestHits++
		}
		progress("match after %s with %d of %d providers heard from",
			time.Since(t0).Round(time.Millisecond), len(ads), n)
		r.Host.Close()

		all := &Requester{Host: benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs()}), Trust: NewMemTrust(), Log: benchLog}
		t0 = time.Now()
		if _, ranked, err = all.discover(ctx, spec, n, opt); err != nil {
			b.Fatal(err)
		}
		took := time.Since(t0) - settleDiscover
		allT = append(allT, ms(took))
		progress("all %d providers ranked after %s (%d found)", n, took.Round(time.Millisecond), len(ranked))
		if len(ranked) < n {
			explainMissing(ctx, b, all, providers, ranked)
			b.Fatalf("requester ranked %d of %d providers", len(ranked), n)
		}
		all.Host.Close()
	}
	b.StopTimer()
	b.ReportMetric(median(startT), "start-ms")
	b.ReportMetric(median(matchT), "match-ms")
	b.ReportMetric(median(allT), "all-ms")
	b.ReportMetric(median(seen), "match-seen")
	b.ReportMetric(float64(links)/float64(n), "peers/provider")
	b.ReportMetric(float64(bestHits)/float64(b.N), "match-best-frac")

	benchAdRound(ctx, b, boot, providers, progress)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median of xs (sorted in place).
func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// Harness-only settings (not used by `spare node`).
const (
	// benchStartParallel is how many provider hosts start at once: enough
	// to start 200 quickly, few enough that this machine's cores keep up.
	benchStartParallel = 8
	// maxAdRound bounds the wait for one ad round to reach the watcher.
	maxAdRound = time.Minute
	// adRoundSpread is how long the measured round's publications are
	// spread over. Providers' rounds are independent, so a real network
	// spreads them over p2p.AdRepublish; all at once would measure how
	// this process copes with a burst of hundreds of hosts' traffic on two
	// cores rather than the ads' cost.
	adRoundSpread = 20 * time.Second
)

// benchListen is the harness's listen address unless SPARE_BENCH_QUIC is
// set: TCP only. Hundreds of hosts in one process on two cores spend most
// of their CPU in QUIC's user-space packet handling (every ACK and timer
// of a few thousand connections is a goroutine wake-up and a syscall
// here, not the kernel's), which starves the bootstrap node; a real host
// has its own CPU. The figures measured do not depend on the transport.
var benchListen = []multiaddr.Multiaddr{multiaddr.StringCast("/ip4/127.0.0.1/tcp/0")}

// benchLog drops the harness hosts' logs below ERROR: hundreds of hosts
// on two cores log identify timeouts that say nothing about the figures.
var benchLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

func benchHost(ctx context.Context, b *testing.B, cfg p2p.Config) *p2p.Host {
	cfg.LoopbackOnly, cfg.Logger = true, benchLog
	if os.Getenv("SPARE_BENCH_QUIC") == "" {
		cfg.Listen = benchListen
	}
	h, err := p2p.New(ctx, cfg)
	if err != nil {
		b.Fatalf("starting a host: %v", err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

// benchProviders is SPARE_BENCH_PROVIDERS, 200 when unset.
func benchProviders(b *testing.B) int {
	n := 200
	if s := os.Getenv("SPARE_BENCH_PROVIDERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("SPARE_BENCH_PROVIDERS=%q: want a positive count", s)
		}
	}
	return n
}

// benchAd is provider i's ad: one GPU, prices rising with i so that
// provider 0 is the cheapest.
func benchAd(i int) p2p.Ad {
	return p2p.Ad{GPUModel: "NVIDIA GeForce RTX 4070", VRAMMiB: 12282, CUDA: "12.4", CPUs: 16, RAMMiB: 32768,
		PricePerSecond: uint64(100 + i%200), Benchmark: 1000, Payee: "0x52908400098527886E0F7030069857D2E4169EE7",
		Capabilities: []string{"gpu:nvidia"}}
}

// benchProvider starts provider i as `spare node` runs one: ad query
// handler, ads republished every p2p.AdRepublish, DHT provider record.
func benchProvider(ctx context.Context, b *testing.B, boot *p2p.Host, i int) *p2p.Host {
	h := benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs()})
	ad := benchAd(i)
	ServeAds(h, func(now time.Time) (p2p.Ad, bool) {
		a := ad
		a.IssuedAt, a.ExpiresAt = now, now.Add(p2p.DefaultAdLifetime)
		return a, true
	})
	h.KeepPublishing(ctx, func() (p2p.Ad, bool) { return ad, true })
	if err := h.Advertise(ctx, "gpu:nvidia"); err != nil {
		b.Error(err)
	}
	return h
}

// benchAdRound has every provider publish one ad and measures the gossip
// it costs, as described on BenchmarkDiscoverMatch.
func benchAdRound(ctx context.Context, b *testing.B, boot *p2p.Host, providers []*p2p.Host, progress func(string, ...any)) {
	n := len(providers)
	watcher := benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs()})
	ads := watcher.Ads(ctx)
	// Let the watcher join the mesh and the start-up round's gossip die
	// down (IHAVE lasts three heartbeats).
	time.Sleep(5 * time.Second)
	hosts := append([]*p2p.Host{boot, watcher}, providers...)
	traffic := func() uint64 {
		var t uint64
		for _, h := range hosts {
			s, _ := h.AdTraffic()
			t += s
		}
		return t
	}
	split := func() (count, msgs, ctl, dropped uint64) {
		for _, h := range hosts {
			c, m, k := h.AdTrafficSent()
			count, msgs, ctl, dropped = count+c, msgs+m, ctl+k, dropped+h.AdRPCsDropped()
		}
		return
	}
	const quiet = 10 * time.Second
	idleStart := traffic()
	time.Sleep(quiet)
	idleBytes := traffic() - idleStart

	before := traffic()
	c0, m0, k0, d0 := split()
	roundStart := time.Now()
	pace := time.NewTicker(adRoundSpread / time.Duration(n))
	for i, p := range providers {
		a := benchAd(i)
		if err := p.PublishAd(ctx, a); err != nil {
			b.Fatal(err)
		}
		<-pace.C
	}
	pace.Stop()
	seen := map[string]bool{}
	limit := time.NewTimer(maxAdRound)
	defer limit.Stop()
collect:
	for len(seen) < n {
		select {
		case ad := <-ads:
			seen[ad.Peer.String()] = true
		case <-limit.C:
			break collect
		}
	}
	round := time.Since(roundStart)
	time.Sleep(5 * time.Second) // the round's gossip settles
	roundBytes := traffic() - before
	c1, m1, k1, d1 := split()
	copies := float64(c1-c0) / float64(n) / float64(len(hosts))
	progress("ad round: %d messages of %d bytes on average (%.1f copies per ad per host), %d bytes of control, %d RPCs dropped on full queues",
		c1-c0, (m1-m0)/max(1, c1-c0), copies, k1-k0, d1-d0)
	perMin := float64(roundBytes)/float64(n)*(float64(time.Minute)/float64(p2p.AdRepublish)) +
		float64(idleBytes)/float64(n)*(float64(time.Minute)/float64(quiet))
	progress("ad round: %d of %d ads reached a requester in %s; %d bytes (%.0f per provider); idle gossip %d bytes per %s",
		len(seen), n, round.Round(time.Millisecond), roundBytes, float64(roundBytes)/float64(n), idleBytes, quiet)
	b.ReportMetric(round.Seconds(), "ad-round-s")
	b.ReportMetric(float64(len(seen))/float64(n), "ads-received-frac")
	b.ReportMetric(perMin, "adB/provider/min")
	b.ReportMetric(perMin*float64(n)/float64(len(hosts)), "adB/host/min")
	b.ReportMetric(copies, "copies/ad/host")
}

// explainMissing says, for each provider a requester did not rank,
// whether the DHT names it and whether it answers an ad query now.
func explainMissing(ctx context.Context, b *testing.B, r *Requester, providers []*p2p.Host, ranked []Candidate) {
	have := map[string]bool{}
	for _, c := range ranked {
		have[c.Peer] = true
	}
	inDHT := map[peer.ID]bool{}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	for pi := range r.Host.FindProviders(fctx, "gpu:nvidia") {
		inDHT[pi.ID] = true
	}
	cancel()
	for _, p := range providers {
		if have[p.ID().String()] {
			continue
		}
		_, err := QueryAd(ctx, r.Host, p.ID())
		b.Logf("missing %s: in the DHT %v (%d found); ad query now: %v; connected %v",
			p.ID(), inDHT[p.ID()], len(inDHT), err, r.Host.LibP2P().Network().Connectedness(p.ID()))
	}
}
