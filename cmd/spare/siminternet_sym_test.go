package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/simnet"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// symSite is the simulated internet's home behind a symmetric NAT;
// symPrice the price of the provider there: above the --max-price of
// TestSimInternetPaidJob's paid jobs, so that only the submit that asks
// for it (symMaxPrice) ranks it.
const (
	symSite     = 83
	symPrice    = "0.02"
	symMaxPrice = "0.05"
)

// startSymProvider starts `spare node` behind a symmetric NAT (site 83:
// MASQUERADE --random-fully, a new port for every destination) in w,
// knowing only the bootstrap nodes of bootFlags.
func startSymProvider(t *testing.T, w *simnet.World, sock string, bootFlags []string) *spareNode {
	t.Helper()
	data := t.TempDir()
	nd := &spareNode{data: data, netns: w.NATSite(symSite, simnet.Symmetric), args: append([]string{"--data", data, "--containerd", sock,
		"node", "--always-available", "--no-mdns", "--ious-from-strangers", "--interval", "1s", "--price", symPrice}, bootFlags...)}
	nd.start(t)
	return nd
}

// simSymmetricRefused: the provider behind the symmetric NAT is the only
// one left (the port-restricted one, prov, is stopped). A fresh
// requester's `spare submit` finds it, never runs the job through the
// relay it meets it by, and says in plain words why and what the
// provider's owner can do; the symmetric provider's own `spare status`
// then says it is reached only through a relay, and how to fix that.
// Nothing was paid, nothing ran there, and less than the image crossed
// between the symmetric home and anywhere.
func simSymmetricRefused(t *testing.T, w *simnet.World, reqSite, sock, render string, bootFlags []string, prov, sym *spareNode) {
	var meters []*simnet.Meter
	for _, o := range []int{82, 84} {
		meters = append(meters, w.Between(symSite, o))
	}
	for i := range simObservers {
		meters = append(meters, w.Between(symSite, 90+i))
	}
	c := localapi.NewClient(sym.data)
	// Found through a relay: AutoNAT's verdict is in (private) and the
	// provider holds a reservation. Before any punch it cannot tell a
	// symmetric NAT from a cone (identify needs more observers than the
	// world has), so it says hole-punching, or already relay-only.
	testenv.WaitFor(t, "the symmetric NAT's provider to know it is behind a NAT", 2*time.Minute, func() error {
		s, err := c.Status(context.Background())
		if err != nil {
			return err
		}
		if s.Reach != "hole-punching" && s.Reach != "relay-only" {
			return fmt.Errorf("reach %q: %s", s.Reach, s.ReachHint)
		}
		return nil
	})
	ran := watchRunning(t, c)
	_ = prov.cmd.Process.Signal(syscall.SIGTERM)
	_ = prov.cmd.Wait()

	// --discovery bounds the second look for providers that follows the
	// refusal (none is left to find) as well as the first.
	data, out := t.TempDir(), t.TempDir()
	args := append([]string{"--data", data, "--containerd", sock, "--json", "submit", "--no-daemon", "--no-mdns",
		"--image", render, "--output", out, "--max-price", symMaxPrice, "--discovery", "10s"}, bootFlags...)
	cmd := inNetns(exec.Command(spareBin, args...), reqSite)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("spare submit with only the symmetric NAT's provider: %v after %s\n%s", err, time.Since(start).Round(time.Millisecond), stderr.String())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitNoProvider {
		t.Fatalf("spare submit: %v, want exit %d (no provider could run the job)\n%s", err, exitNoProvider, stderr.String())
	}
	var res market.SubmitResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("--json printed %q: %v", stdout.String(), err)
	}
	tried := false
	for _, tr := range res.Tries {
		if tr.Provider != sym.peerID {
			continue
		}
		tried = true
		if tr.Units != 0 || !strings.Contains(tr.Error, "relay") {
			t.Errorf("the symmetric NAT's provider's try: %+v, want refused as relay-only, unpaid", tr)
		}
	}
	if !tried {
		t.Fatalf("the requester never tried the symmetric NAT's provider %s: %+v\n%s", sym.peerID, res.Tries, stderr.String())
	}
	short := sym.peerID[len(sym.peerID)-8:]
	for _, want := range []string{"provider " + short + " is reached only through a relay", "UPnP", "forward a port"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("spare submit's stderr does not say %q:\n%s", want, stderr.String())
		}
	}
	if at, ok := ran(start); ok {
		t.Errorf("the symmetric NAT's provider ran a job at %s", at.Sub(start))
	}
	if got := spent(t, data); got != 0 || res.Units != 0 {
		t.Errorf("the requester spent %s (result %d units) on a refused provider", got, res.Units)
	}

	img, err := os.Stat(render)
	if err != nil {
		t.Fatal(err)
	}
	var crossed int64
	for _, m := range meters {
		crossed += m.Bytes()
	}
	t.Logf("SIMJOB symmetric bytes_to_or_from_symmetric_home=%d image_bytes=%d", crossed, img.Size())
	if crossed >= img.Size() {
		t.Errorf("%d bytes crossed to or from the symmetric NAT's home, as much as the %d-byte image: was the job relayed?", crossed, img.Size())
	}

	// The provider's own status: relay-only (its punches with the
	// requester all failed), and what its owner can do.
	var st localapi.Status
	testenv.WaitFor(t, "the symmetric NAT's provider to say it is relay-only", 30*time.Second, func() error {
		s, err := c.Status(context.Background())
		if err != nil {
			return err
		}
		st = s
		if s.Reach != "relay-only" {
			return fmt.Errorf("reach %q: %s (hole punches %d ok, %d failed)", s.Reach, s.ReachHint, s.HolePunches, s.HolePunchFails)
		}
		return nil
	})
	r := spareAt(t, sym.data, "status")
	t.Logf("the symmetric NAT's provider's spare status:\n%s", r.stdout)
	for _, want := range []string{"reach:   " + st.ReachLine(), "Only reachable through a relay: jobs are refused", "UPnP", "forward "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("spare status does not say %q:\n%s", want, r.stdout)
		}
	}
	if got := earned(t, sym.data); got != wallet.Amount(0) {
		t.Errorf("the symmetric NAT's provider earned %s for no job", got)
	}
}
