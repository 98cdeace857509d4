package node

import (
	"context"
	"fmt"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/sandbox"
)

// RunningJob is a job the daemon started; Done delivers its result once.
type RunningJob struct {
	Job  *sandbox.Job
	Done <-chan JobResult
}

// JobResult is how a job ended and what it left in outputDir.
type JobResult struct {
	Result  sandbox.Result
	Outputs []sandbox.OutputFile
	Err     error
}

// StartJob starts a job in the sandbox on the given devices (UUIDs from
// the status; the CPU device for CPU-only work) and puts it under the
// governor: it freezes when the owner returns and ends when the owner
// stays. When the job ends its outputs are copied to outputDir (when set),
// it is removed, and Done delivers the result.
func (d *Daemon) StartJob(ctx context.Context, spec sandbox.JobSpec, devices []string, outputDir string) (*RunningJob, error) {
	if len(devices) == 0 {
		return nil, fmt.Errorf("starting job: no device given")
	}
	j, err := d.cfg.Sandbox.Start(ctx, spec)
	if err != nil {
		d.met.failed.WithLabelValues(failStart).Inc()
		return nil, err
	}
	pids, _ := j.PIDs(ctx) // best effort: they tell Spare's GPU processes from foreign ones
	d.jobs.add(j)
	if err := d.gov.JobStarted(governor.Job{ID: j.ID(), GPUs: devices, PIDs: pids}); err != nil {
		d.jobs.remove(j.ID())
		_ = j.Stop(ctx, 0)
		_ = j.Cleanup(context.WithoutCancel(ctx))
		d.met.failed.WithLabelValues(failStart).Inc()
		return nil, fmt.Errorf("starting job: %w", err)
	}
	started := time.Now()
	d.met.started.Inc()
	d.jobStarted(j.ID(), started)
	done := make(chan JobResult, 1)
	d.running.Add(1)
	go func() {
		defer d.running.Done()
		ctx := context.WithoutCancel(ctx)
		var r JobResult
		r.Result, r.Err = j.Wait(ctx)
		if r.Err == nil && outputDir != "" {
			r.Outputs, r.Err = j.Outputs(outputDir)
		}
		_ = d.gov.JobEnded(j.ID())
		d.met.jobEnded(r, time.Since(started))
		d.jobs.remove(j.ID())
		d.jobEnded(j.ID())
		done <- r // the outputs are copied: the result need not wait for the cleanup
		if err := j.Cleanup(ctx); err != nil {
			d.log.Warn("removing job; trying again once the container runtime answers", "job", j.ID(), "err", err)
			d.leftovers.add(j)
		}
	}()
	return &RunningJob{Job: j, Done: done}, nil
}
