package p2p

import (
	"slices"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// BenchmarkRendezvous measures, on a fake public network of 3 Amino DHT
// servers on loopback (fakePublicNetwork), the time from a fresh
// provider's start (p2p.New with Public) until a fresh requester started
// after it, knowing only the public bootstrap peers, is connected to it
// through the rendezvous record: time-to-discoverable without any Spare
// server. Loopback has no NAT and no latency: the figure is the protocol's
// own cost (DHT joins, one provide, one lookup), not an internet's. ms is
// the median over the iterations.
//
//	go test ./p2p -run '^$' -bench Rendezvous -benchtime 5x
func BenchmarkRendezvous(b *testing.B) {
	fakePublicNetwork(b, 3)
	var times []float64
	for range b.N {
		start := time.Now()
		prov := newTestHost(b, Config{Public: true})
		testenv.WaitFor(b, "the provider's record published", testTimeout, prov.rendezvousPublished.Load)
		req := newTestHost(b, Config{Public: true})
		testenv.WaitFor(b, "the requester connected to the provider", testTimeout, func() bool { return connected(req, prov) })
		times = append(times, float64(time.Since(start))/float64(time.Millisecond))
		req.Close()
		prov.Close()
	}
	slices.Sort(times)
	b.ReportMetric(times[len(times)/2], "ms")
}
