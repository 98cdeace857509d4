//go:build linux

package node

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/sandbox"
)

// adRecorder stands in for the market's provider side (which needs a
// libp2p host and a wallet; the provider's own tests run those): it
// records the governor's ad actions, in order.
type adRecorder struct {
	mu    sync.Mutex
	calls []string
}

var _ Market = (*adRecorder)(nil)

func (a *adRecorder) add(s string) {
	a.mu.Lock()
	a.calls = append(a.calls, s)
	a.mu.Unlock()
}
func (a *adRecorder) Publish(_ context.Context, gpus []string) error {
	a.add("publish " + strings.Join(gpus, ","))
	return nil
}
func (a *adRecorder) Withdraw(context.Context) error { a.add("withdraw"); return nil }
func (a *adRecorder) Notify(context.Context, string, governor.Notice) error {
	return nil
}
func (a *adRecorder) SetTerms(*market.Price, []market.Kind) {}
func (a *adRecorder) SetCostFloor(market.Price)             {}
func (a *adRecorder) Describe(*localapi.Status)             {}
func (a *adRecorder) DescribeJob(context.Context, string) (localapi.Job, bool) {
	return localapi.Job{}, false
}

// last is the latest ad action recorded ("" for none) and how many.
func (a *adRecorder) last() (string, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.calls) == 0 {
		return "", 0
	}
	return a.calls[len(a.calls)-1], len(a.calls)
}

// TestRuntimeGone kills the daemon's containerd (a private one) while a
// job runs, then starts it again. The daemon notices within seconds, says
// so with the fix, withdraws its ad and offers no work; once containerd
// answers again it offers work again by itself and removes the ended
// job's container, whose removal failed while containerd was gone.
func TestRuntimeGone(t *testing.T) {
	ctrd := testenv.PrivateContainerd(t)
	probe := testenv.Workload(t, "probe")
	ctx := context.Background()
	dir := t.TempDir()
	const ns = "spare-test-runtime"
	sb, err := sandbox.New(ctx, sandbox.Config{Socket: ctrd.Socket, WorkDir: filepath.Join(dir, "jobs"), Namespace: ns, Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	img, err := sb.Import(ctx, probe, sandbox.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ads := &adRecorder{}
	d := NewDaemon(DaemonConfig{DataDir: dir, Sandbox: sb, Settings: governor.Settings{AlwaysAvailable: true}, Display: ":none",
		Version: "test", Log: quietLogger(), Market: ads})
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- d.Serve(sctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	testenv.WaitFor(t, "Available, advertised", 15*time.Second, func() bool {
		last, _ := ads.last()
		return d.Status().State == localapi.StateAvailable && last == "publish "+CPUDeviceUUID
	})
	rj, err := d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"sleep", "5m"}}, []string{CPUDeviceUUID}, "")
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "Running", 10*time.Second, func() bool { return d.Status().State == localapi.StateRunning })

	killed := time.Now()
	ctrd.Kill()
	const said = "Waiting: the container service stopped — start it: " + RuntimeFix
	testenv.WaitFor(t, "the status to say the container service stopped", 15*time.Second, func() error {
		if s := d.Status(); s.Sentence != said || s.Reason != localapi.ReasonRuntime {
			return fmt.Errorf("status %s (%s): %q", s.State, s.Reason, s.Sentence)
		}
		return nil
	})
	noticed := time.Since(killed)
	if last, _ := ads.last(); last != "withdraw" {
		t.Fatalf("with containerd gone the last ad action was %q, want withdraw", last)
	}
	_, before := ads.last()
	select {
	case r := <-rj.Done:
		t.Logf("the job ended while containerd was gone: %+v", r)
	case <-time.After(15 * time.Second):
		t.Fatal("the job did not end within 15 s of containerd going")
	}

	ctrd.Start()
	restarted := time.Now()
	testenv.WaitFor(t, "Available and advertised again", 20*time.Second, func() error {
		last, n := ads.last()
		if s := d.Status(); s.State != localapi.StateAvailable || n == before || last != "publish "+CPUDeviceUUID {
			return fmt.Errorf("status %q, last ad action %q", s.Sentence, last)
		}
		return nil
	})
	back := time.Since(restarted)
	client, err := containerd.New(ctrd.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	testenv.WaitFor(t, "the ended job's container to be removed", 20*time.Second, func() error {
		cs, err := client.Containers(namespaces.WithNamespace(ctx, ns))
		if err != nil || len(cs) > 0 {
			return fmt.Errorf("%d containers left (%v)", len(cs), err)
		}
		return nil
	})
	t.Logf("containerd killed mid-job: the status said so after %v; offered again %v after it started", noticed.Round(time.Millisecond), back.Round(time.Millisecond))
}
