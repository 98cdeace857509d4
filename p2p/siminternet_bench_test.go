package p2p

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/simnet"
)

// simBench, run by `make bench` (SPARE_BENCH_SIM_RUNS=N), measures in
// TestSimInternet's world, N times per NAT type with a fresh provider
// and a fresh requester each time: the time from the provider's start
// until the requester, knowing only the public bootstrap peers, is
// connected to it (time-to-discoverable), and whether the job stream then
// got a direct connection (hole-punch success). It asserts nothing about
// the figures; it logs them as SIMBENCH lines.
func simBench(ctx context.Context, t *testing.T, sites map[simnet.NAT]string, reqSite string, env []string) {
	n, err := strconv.Atoi(os.Getenv(simRuns))
	if err != nil || n <= 0 {
		return
	}
	t.Run("bench", func(t *testing.T) {
		var all []time.Duration
		for _, nat := range []simnet.NAT{natFullCone, natPortRestricted, natSymmetric} {
			var times []time.Duration
			direct := 0
			for i := range n {
				req := startSim(ctx, t, reqSite, "requester", fmt.Sprintf("bench requester %s %d", nat, i), append(env, simData+"="+t.TempDir())...)
				req.want(t, "STARTED")
				start := time.Now()
				prov := startSim(ctx, t, sites[nat], "provider", fmt.Sprintf("bench provider %s %d", nat, i), env...)
				id := prov.want(t, "READY")[0]
				req.say(t, "find", id)
				req.want(t, "FOUND")
				d := time.Since(start)
				times = append(times, d)
				req.say(t, "job", id)
				if res := req.want(t, "JOB"); res[1] == "ok" && res[2] == "limited=false" {
					direct++
				}
				req.stop(t)
				prov.stop(t)
			}
			all = append(all, times...)
			t.Logf("SIMBENCH nat=%s runs=%d discoverable_median_ms=%d direct_jobs=%d/%d", nat, n, median(times).Milliseconds(), direct, n)
		}
		t.Logf("SIMBENCH all runs=%d discoverable_median_ms=%d", len(all), median(all).Milliseconds())
	})
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
