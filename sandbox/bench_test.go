//go:build linux

package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkPauseLatency measures the time from a Pause call to the job being
// frozen (containerd returns once the cgroup freezer reports FROZEN), as
// median and p99 over 50 pause/resume cycles per iteration:
//
//	go test -run '^$' -bench PauseLatency -benchtime 1x ./sandbox
func BenchmarkPauseLatency(b *testing.B) {
	b.StopTimer()
	ctx := context.Background()
	sb, img := testSandbox(b)
	lines := newLineCounter()
	j, err := sb.Start(ctx, JobSpec{Image: img.Digest, Args: []string{"counter"}, Stdout: lines})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Cleanup(ctx)
	var lat []time.Duration
	for range b.N {
		for range 50 {
			start := time.Now()
			if err := j.Pause(ctx); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			if err := j.Resume(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
