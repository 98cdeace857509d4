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

// BenchmarkPullHomeNode measures what a home node off the ads topic
// (p2p.Config.PullAds) spends, for docs/scale-model.md: SPARE_BENCH_PROVIDERS
// (default 200) pull-only providers and a bootstrap DHT node on loopback,
// each provider advertising "gpu:nvidia" in the DHT and answering ad
// queries; libp2p's bandwidth counter on every provider. Reported:
//
//   - idleB/provider/h: bytes in and out of one provider per hour at rest
//     (DHT and connection upkeep; no ads travel), from a quiet window of
//     SPARE_BENCH_QUIET (default 30s; the DHT refreshes its routing table
//     every 10 minutes, which a shorter window does not see);
//
//   - provideB/provider: bytes of one DHT provider record publication,
//     repeated every p2p.ReprovideInterval;
//
//   - queryB/provider: bytes one provider spends per requester that asks
//     it (a discovery of all providers by a fresh requester, divided by
//     the providers it heard from);
//
//   - homeB/h@100req: the three at 100 requesters an hour asking each
//     provider.
//
//     SPARE_BENCH_PROVIDERS=200 go test ./market -run '^$' -bench PullHomeNode -benchtime 1x -timeout 20m
func BenchmarkPullHomeNode(b *testing.B) {
	n := benchProviders(b)
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Minute)
	defer cancel()
	boot := benchHost(ctx, b, p2p.Config{BootstrapNode: true})
	providers := make([]*p2p.Host, n)
	counters := make([]*metrics.BandwidthCounter, n)
	provide := make([]float64, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, benchStartParallel)
	for i := range providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			counters[i] = metrics.NewBandwidthCounter()
			h := benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs(), PullAds: true, Bandwidth: counters[i]})
			ad := benchAd(i)
			ServeAds(h, func(now time.Time) (p2p.Ad, bool) {
				a := ad
				a.IssuedAt, a.ExpiresAt = now, now.Add(p2p.DefaultAdLifetime)
				return a, true
			})
			before := total(counters[i])
			if err := h.Advertise(ctx, "gpu:nvidia"); err != nil {
				b.Error(err)
			}
			time.Sleep(meterSweep) // the counter's totals move once a second
			provide[i] = float64(total(counters[i]) - before)
			providers[i] = h
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	// Past the start-up's second provider record (AdvertiseRetry).
	time.Sleep(p2p.AdvertiseRetry + 5*time.Second)
	quiet := 30 * time.Second
	if s := os.Getenv("SPARE_BENCH_QUIET"); s != "" {
		var err error
		if quiet, err = time.ParseDuration(s); err != nil || quiet <= 0 {
			b.Fatalf("SPARE_BENCH_QUIET=%q: want a positive duration", s)
		}
	}
	at := func() []uint64 {
		out := make([]uint64, n)
		for i, c := range counters {
			out[i] = total(c)
		}
		return out
	}
	t0 := at()
	time.Sleep(quiet)
	t1 := at()
	idle := make([]float64, n)
	for i := range idle {
		idle[i] = float64(t1[i]-t0[i]) * float64(time.Hour) / float64(quiet)
	}
	b.ResetTimer()
	var query []float64
	spec := &JobSpec{
		Kind: KindInference, Image: Image{Digest: Digest("sha256:" + fmt.Sprintf("%064x", 1)), Size: 1 << 20, Blob: true},
		Command: []string{"true"}, Resources: Resources{GPUs: 1, VRAM: 4 << 30, CPUs: 2000, Memory: 4 << 30}, MaxPrice: 1000,
	}
	for b.Loop() {
		r := &Requester{Host: benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs(), PullAds: true}), Trust: NewMemTrust(), Log: benchLog}
		before := at()
		ads, _, err := r.discover(ctx, spec, n, SubmitOptions{Capability: "gpu:nvidia", Discovery: DefaultDiscovery})
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(meterSweep)
		after := at()
		var spent uint64
		for i := range after {
			spent += after[i] - before[i]
		}
		if len(ads) > 0 {
			query = append(query, float64(spent)/float64(len(ads)))
		}
		fmt.Fprintf(os.Stderr, "bench: a fresh pull-only requester heard from %d of %d providers\n", len(ads), n)
		r.Host.Close()
	}
	b.StopTimer()
	idleH, provideB, queryB := median(idle), median(provide), median(query)
	reprovides := float64(time.Hour) / float64(p2p.ReprovideInterval)
	b.ReportMetric(idleH, "idleB/provider/h")
	b.ReportMetric(provideB, "provideB/provider")
	b.ReportMetric(queryB, "queryB/provider")
	b.ReportMetric(idleH+provideB*reprovides+100*queryB, "homeB/h@100req")
}

// meterSweep is how long a bandwidth counter's totals take to show what
// was sent: its meters are swept once a second.
const meterSweep = 2 * time.Second

func total(c *metrics.BandwidthCounter) uint64 {
	s := c.GetBandwidthTotals()
	return uint64(s.TotalIn + s.TotalOut)
}
