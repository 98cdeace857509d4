package node

import (
	"context"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/sandbox"
)

func TestCurrentJobFrozen(t *testing.T) {
	d, c, img := testDaemon(t, governor.Settings{IdleBefore: time.Second}, ":none")
	ctx := context.Background()
	idle := func(ms int64) {
		t.Helper()
		if err := c.ReportPresence(ctx, localapi.PresenceReport{IdleMS: ms, IdleKnown: true, Source: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	idle(10 * 60 * 1000)
	testenv.WaitFor(t, "Available", 10*time.Second, func() bool { return d.Status().State == localapi.StateAvailable })

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
	testenv.WaitFor(t, "running", 10*time.Second, func() bool { j, _ = c.Job(ctx); return j != nil && j.State == localapi.JobRunning })
	if j.ID != rj.Job.ID() || j.Kind != "" || j.Requester != "" || j.Started.IsZero() {
		t.Fatalf("a job started without the market: %+v", j)
	}
	idle(0) // the owner is back
	testenv.WaitFor(t, "frozen", 10*time.Second, func() bool { j, _ = c.Job(ctx); return j != nil && j.State == localapi.JobFrozen })
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
