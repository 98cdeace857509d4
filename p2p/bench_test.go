package p2p

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkDiscovery200 starts a bootstrap node and SPARE_BENCH_PROVIDERS
// (default 200) provider hosts in this process on loopback; each advertises
// "gpu" in the DHT and publishes one ad. Each iteration starts a new
// requester that knows only the bootstrap node and times how long it takes
// to find every provider in the DHT (ns/op). Reported besides:
//
//   - ad-round-s: from the start of a round in which every provider
//     publishes one ad until a requester holds all of them (at most
//     maxAdRound; ads-received-frac says how many arrived);
//
//   - adB/provider/min: GossipSub bytes sent by all hosts per provider per
//     minute, for one ad round every AdRepublish plus the idle gossip
//     between rounds: the network-wide cost of one provider's ads;
//
//   - adB/host/min: the same total divided among all hosts: what each node
//     sends per minute to carry everyone's ads.
//
//     go test ./p2p -run '^$' -bench Discovery200 -benchtime 3x -timeout 20m
//
// maxAdRound bounds the wait for one ad round to reach the requester.
const maxAdRound = time.Minute

func BenchmarkDiscovery200(b *testing.B) {
	n := 200
	if s := os.Getenv("SPARE_BENCH_PROVIDERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	boot := newTestHost(b, Config{BootstrapNode: true})
	providers := make([]*Host, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	start := time.Now()
	for i := range providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p := newTestHost(b, Config{Bootstrap: boot.Addrs()})
			if err := p.Advertise(ctx, "gpu"); err != nil {
				b.Error(err)
			}
			providers[i] = p
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	progress := func(f string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+f+"\n", args...) }
	progress("%d providers up and advertised in %s", n, time.Since(start).Round(time.Millisecond))

	b.ResetTimer()
	for b.Loop() {
		r := newTestHost(b, Config{Bootstrap: boot.Addrs()})
		// Time until every provider is known, not until the lookup has
		// also heard back from every DHT peer it asked.
		fctx, fcancel := context.WithCancel(ctx)
		found := 0
		for range r.FindProviders(fctx, "gpu") {
			if found++; found == n {
				fcancel()
			}
		}
		fcancel()
		progress("new requester found %d providers", found)
		if found < n {
			b.Fatalf("requester found %d of %d providers", found, n)
		}
		r.Close()
	}
	b.StopTimer()

	// One ad round, watched by a requester joined beforehand.
	watcher := newTestHost(b, Config{Bootstrap: boot.Addrs()})
	ads := watcher.Ads(ctx)
	waitMesh(b, watcher, boot.ID())
	traffic := func() uint64 {
		var t uint64
		for _, h := range append(providers, boot, watcher) {
			s, _ := h.AdTraffic()
			t += s
		}
		return t
	}
	before := traffic()
	roundStart := time.Now()
	for _, p := range providers {
		if err := p.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
			b.Fatal(err)
		}
	}
	seen := map[string]bool{}
	roundLimit := time.After(maxAdRound)
collect:
	for len(seen) < n {
		select {
		case ad := <-ads:
			seen[ad.Peer.String()] = true
		case <-roundLimit:
			break collect
		case <-time.After(5 * time.Second):
			progress("requester has %d of %d ads", len(seen), n)
		}
	}
	round := time.Since(roundStart)
	progress("requester got %d of %d ads in %s", len(seen), n, round.Round(time.Millisecond))
	// Let gossip about the round settle (IHAVE lasts three heartbeats),
	// then measure idle gossip over a quiet window.
	settle := time.NewTimer(5 * time.Second)
	<-settle.C
	roundBytes := traffic() - before
	const quiet = 10 * time.Second
	idleStart := traffic()
	idle := time.NewTimer(quiet)
	<-idle.C
	idleBytes := traffic() - idleStart
	perMin := float64(roundBytes)/float64(n)*(float64(time.Minute)/float64(AdRepublish)) +
		float64(idleBytes)/float64(n)*(float64(time.Minute)/float64(quiet))
	progress("ad round: %s to reach the requester; %d bytes (%.0f per provider); idle gossip %d bytes per %s",
		round.Round(time.Millisecond), roundBytes, float64(roundBytes)/float64(n), idleBytes, quiet)

	b.ReportMetric(round.Seconds(), "ad-round-s")
	b.ReportMetric(float64(len(seen))/float64(n), "ads-received-frac")
	b.ReportMetric(perMin, "adB/provider/min")
	b.ReportMetric(perMin*float64(n)/float64(n+2), "adB/host/min")
}
