package market

import (
	"context"
	"testing"
	"time"

	"github.com/sparegpu/spare/p2p"
)

// BenchmarkFirstContact measures what `spare submit --bootstrap ADDR`
// waits before it sends its first proposal: from the requester's host
// start (p2p.New, dialling ADDR) until discover returns a ranked match.
// Two worlds, each on loopback with one provider serving its ad:
//
//   - no-dht: ADDR is the provider itself, a DHT client (a home node
//     without a public address), so the requester never gets a DHT peer;
//   - dht: ADDR is a bootstrap node (a DHT server) the provider has
//     joined and advertised its capability on.
//
// The time after the match (proposal, quote, image transfer, container
// start) is the same in both and not counted. ms is the median over
// the iterations.
//
//	go test ./market -run '^$' -bench FirstContact -benchtime 5x
func BenchmarkFirstContact(b *testing.B) {
	for _, world := range []string{"no-dht", "dht"} {
		b.Run(world, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			var boot *p2p.Host
			cfg := p2p.Config{}
			if world == "dht" {
				boot = benchHost(ctx, b, p2p.Config{BootstrapNode: true})
				cfg.Bootstrap = boot.Addrs()
			}
			prov := benchHost(ctx, b, cfg)
			serveAd(prov, 0, 0, nil)
			if boot != nil {
				if err := prov.Advertise(ctx, "gpu:nvidia"); err != nil {
					b.Fatal(err)
				}
			} else {
				boot = prov
			}
			spec := &JobSpec{
				Kind: KindInference, Image: Image{Digest: digestA, Size: 1 << 20, Blob: true},
				Command: []string{"true"}, Resources: Resources{GPUs: 1, VRAM: 4 << 30, CPUs: 2000, Memory: 4 << 30}, MaxPrice: 1000,
			}
			var times []float64
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				h := benchHost(ctx, b, p2p.Config{Bootstrap: boot.Addrs()})
				r := &Requester{Host: h, Trust: NewMemTrust(), Log: benchLog}
				_, ranked, err := r.discover(ctx, spec, 1, SubmitOptions{})
				if err != nil || len(ranked) == 0 || ranked[0].Peer != prov.ID().String() {
					b.Fatalf("no match with the provider: %v (%d ranked)", err, len(ranked))
				}
				times = append(times, ms(time.Since(start)))
				h.Close()
			}
			b.StopTimer()
			b.ReportMetric(median(times), "ms")
		})
	}
}
