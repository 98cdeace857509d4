package main

import (
	"encoding/json"
	"testing"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// TestSubmitPullAds: a provider and a requester off the ads topic (`--ads
// pull`, what keeps a home node's traffic flat as the network grows) meet
// through the bootstrap node's DHT alone, and the job runs and is paid.
func TestSubmitPullAds(t *testing.T) {
	boot, _ := startNetwork(t, 0)
	prov := startNode(t, boot, "--ads", "pull")
	r := spare(t, "submit", "--bootstrap", boot, "--no-mdns", "--ads", "pull", "--image", testenv.Workload(t, "render"),
		"--output", t.TempDir(), "--json", "--max-price", "0.01")
	if r.code != 0 {
		t.Fatalf("submit --ads pull exited %d: %s", r.code, r.stderr)
	}
	var res market.SubmitResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("--json printed %q: %v", r.stdout, err)
	}
	if cost, err := wallet.ParseAmount(res.Cost); err != nil || cost <= 0 || res.ExitCode != 0 || res.Provider != prov.peerID {
		t.Fatalf("result %+v; want exit 0, provider %s, a cost", res, prov.peerID)
	}
}
