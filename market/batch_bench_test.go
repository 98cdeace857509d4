package market

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"

	"github.com/sparegpu/spare/p2p"
)

// BenchmarkBatchFirstContact compares, for docs/scale-model.md, a fresh
// pull-only requester's first contact with SPARE_BENCH_PROVIDERS
// (default 200) providers on loopback by the two roads it has:
//
//   - per provider: the DHT lookup of "gpu:nvidia" and one ad query
//     (AdProtocol) to each provider it names, as market.Requester.discover
//     does beside the batch;
//   - one batch: the DHT lookup of the volunteer key and one batch query
//     (p2p.AdBatchProtocol) to the volunteer, which holds every ad from
//     the ads topic.
//
// The providers gossip their ads (they and the volunteer are on the ads
// topic), hold the DHT record and answer ad queries; each requester is a
// fresh host with libp2p's bandwidth counter. Reported, medians of the
// iterations: the time to hear from every provider (perProvider-ms,
// batch-ms) and the requester's bytes in and out meanwhile (perProviderB,
// batchB), with how many providers each road heard from.
//
//	SPARE_BENCH_PROVIDERS=200 go test ./market -run '^$' -bench BatchFirstContact -benchtime 3x -timeout 20m
func BenchmarkBatchFirstContact(b *testing.B) {
	n := benchProviders(b)
	if n > p2p.MaxBatchAds {
		b.Fatalf("SPARE_BENCH_PROVIDERS=%d: one batch holds at most %d ads", n, p2p.MaxBatchAds)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Minute)
	defer cancel()
	boot := benchHost(ctx, b, p2p.Config{BootstrapNode: true})
	vol := benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs()})
	heard := vol.Ads(ctx)
	var wg sync.WaitGroup
	sem := make(chan struct{}, benchStartParallel)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			h := benchHost(ctx, b, p2p.Config{Bootstrap: append(boot.Addrs(), vol.Addrs()[0])})
			ad := benchAd(i)
			ServeAds(h, func(now time.Time) (p2p.Ad, bool) {
				a := ad
				a.IssuedAt, a.ExpiresAt = now, now.Add(p2p.DefaultAdLifetime)
				return a, true
			})
			if err := h.Advertise(ctx, "gpu:nvidia"); err != nil {
				b.Error(err)
			}
			if err := h.PublishAd(ctx, ad); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	// The volunteer hears the ads by gossip; on a loaded machine a few
	// providers may fail to join (their dials time out): the figures
	// are of the ads it holds after maxAdRound, which it reports.
	round := time.After(maxAdRound)
wait:
	for len(vol.CurrentAds()) < n {
		select {
		case <-heard:
		case <-round:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	held := len(vol.CurrentAds())
	if held == 0 {
		b.Fatalf("the volunteer heard none of the %d ads", n)
	}
	fmt.Fprintf(os.Stderr, "bench: the volunteer holds the ads of %d of %d providers\n", held, n)
	n = held // what either road can hear of at most
	if err := vol.VolunteerAds(ctx); err != nil {
		b.Fatal(err)
	}
	// Past the start-up's second provider record (AdvertiseRetry), so
	// that the per-provider lookup finds them all.
	time.Sleep(p2p.AdvertiseRetry + 5*time.Second)

	requester := func() (*p2p.Host, *metrics.BandwidthCounter) {
		c := metrics.NewBandwidthCounter()
		return benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs(), PullAds: true, Bandwidth: c}), c
	}
	var perMs, perB, batchMs, batchB []float64
	b.ResetTimer()
	for b.Loop() {
		// Per provider.
		h, c := requester()
		start, before := time.Now(), total(c)
		got := perProviderContact(ctx, h, n)
		perMs = append(perMs, float64(time.Since(start).Milliseconds()))
		time.Sleep(meterSweep)
		perB = append(perB, float64(total(c)-before))
		fmt.Fprintf(os.Stderr, "bench: per provider: heard from %d of %d providers\n", got, n)
		h.Close()

		// One batch.
		h, c = requester()
		start, before = time.Now(), total(c)
		got = 0
		bctx, stop := context.WithTimeout(ctx, DefaultDiscovery)
		var took time.Duration
		for range h.BatchAds(bctx, "gpu:nvidia") {
			if got++; got == n {
				took = time.Since(start)
				stop() // the rest of the lookup is not waited for
			}
		}
		stop()
		if took == 0 {
			took = time.Since(start)
		}
		batchMs = append(batchMs, float64(took.Milliseconds()))
		time.Sleep(meterSweep)
		batchB = append(batchB, float64(total(c)-before))
		fmt.Fprintf(os.Stderr, "bench: one batch: heard from %d of %d providers\n", got, n)
		h.Close()
	}
	b.StopTimer()
	b.ReportMetric(median(perMs), "perProvider-ms")
	b.ReportMetric(median(perB), "perProviderB")
	b.ReportMetric(median(batchMs), "batch-ms")
	b.ReportMetric(median(batchB), "batchB")
	b.ReportMetric(float64(held), "providers")
}

// perProviderContact is the per-provider road: the DHT lookup of
// "gpu:nvidia" and an ad query to each provider it names as it is named;
// it returns how many answered with an ad, once n did or the lookup and
// the queries ended.
func perProviderContact(ctx context.Context, h *p2p.Host, n int) int {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithTimeout(ctx, DefaultDiscovery)
	defer cancel() // before wg.Wait: the queries still running end
	found := h.FindProviders(ctx, "gpu:nvidia")
	answers := make(chan bool)
	pending, got := 0, 0
	for found != nil || pending > 0 {
		select {
		case pi, ok := <-found:
			if !ok {
				found = nil
				continue
			}
			pending++
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := h.Connect(ctx, pi)
				if err == nil {
					_, err = QueryAd(ctx, h, pi.ID)
				}
				select {
				case answers <- err == nil:
				case <-ctx.Done():
				}
			}()
		case ok := <-answers:
			pending--
			if ok {
				got++
			}
			if got == n {
				return got
			}
		case <-ctx.Done():
			return got
		}
	}
	return got
}
