//go:build linux

package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/sandbox"
)

// TestCurrentJobAPI: a job bought over the market shows its kind, its
// requester, its running time and what it earned so far; a job frozen for
// the owner says so.
func TestCurrentJobAPI(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{})
	c := localapi.NewClient(prov.dir)
	req := testRequester(t)
	connect(t, req, prov)
	spec := imageSpec(t, req, "probe", "sleep", "8s")
	spec.Kind = market.KindRender
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		res, err := req.Submit(ctx, spec, market.SubmitOptions{Discovery: 10 * time.Second})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("exit code %d", res.ExitCode)
		}
		done <- err
	}()
	var j *localapi.Job
	waitFor(t, "the job earning", 60*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("the job ended before it was seen earning: %v", err)
		default:
		}
		var err error
		j, err = c.Job(ctx)
		return err == nil && j != nil && j.Earned > 0
	})
	if j.Kind != "render" || j.Requester != shortPeerID(req.Host.ID()) || !strings.HasPrefix(j.ID, "job-") ||
		j.State != localapi.JobRunning || j.Started.IsZero() || j.RunningS < 0 || time.Since(j.Started) > time.Minute {
		t.Fatalf("current job %+v", j)
	}
	if !strings.HasPrefix(j.Requester, "…") || len(j.Requester) > 12 {
		t.Fatalf("requester %q is not a short ID", j.Requester)
	}
	if err := <-done; err != nil {
		t.Fatalf("Submit: %v", err)
	}
	waitFor(t, "no job after it ended", 10*time.Second, func() bool { j, err := c.Job(ctx); return err == nil && j == nil })
}

func TestCurrentJobFrozen(t *testing.T) {
	d, c, img := testDaemon(t, Settings{IdleBefore: time.Second}, ":none")
	ctx := context.Background()
	idle := func(ms int64) {
		t.Helper()
		if err := c.ReportPresence(ctx, localapi.PresenceReport{IdleMS: ms, IdleKnown: true, Source: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	idle(10 * 60 * 1000)
	waitFor(t, "Available", 10*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })

	events := make(chan localapi.Status, 64)
	ectx, ecancel := context.WithCancel(ctx)
	defer ecancel()
	go func() { _ = c.Events(ectx, func(s localapi.Status) { events <- s }) }()
	<-events

	rj, err := d.StartJob(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"sleep", "5m"}}, []string{CPUDeviceUUID}, "")
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, localapi.EventJob)
	var j *localapi.Job
	waitFor(t, "running", 10*time.Second, func() bool { j, _ = c.Job(ctx); return j != nil && j.State == localapi.JobRunning })
	if j.ID != rj.Job.ID() || j.Kind != "" || j.Requester != "" || j.Started.IsZero() {
		t.Fatalf("a job started without the market: %+v", j)
	}
	idle(0) // the owner is back
	waitFor(t, "frozen", 10*time.Second, func() bool { j, _ = c.Job(ctx); return j != nil && j.State == localapi.JobFrozen })
	if j.FrozenSince.IsZero() || j.FrozenSince.Before(j.Started) {
		t.Fatalf("frozen job %+v", j)
	}
	if err := rj.Job.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	<-rj.Done
	waitEvent(t, events, localapi.EventJob)
	if j, err := c.Job(ctx); err != nil || j != nil {
		t.Fatalf("after the job: %+v %v", j, err)
	}
}
