package node

import (
	"context"
	"sync"
	"time"

	"github.com/sparegpu/spare/sandbox"
)

// The runtime watch: how often the daemon asks containerd whether it
// answers, how long it waits for the answer, and how many questions in a
// row must go unanswered before the runtime counts as gone (one slow
// answer on a loaded machine is not an outage).
const (
	runtimeEvery   = time.Second
	runtimeTimeout = 2 * time.Second
	runtimeMisses  = 2
)

// RuntimeFix is the command the status names when containerd stops
// answering.
const RuntimeFix = "sudo systemctl start containerd"

// watchRuntime asks containerd every runtimeEvery whether it answers.
// When it stops, the governor hears so (no work is offered, the status
// says how to start it); when it answers again, the governor hears that
// too and the jobs whose removal failed meanwhile are removed.
func (d *Daemon) watchRuntime(ctx context.Context) error {
	if d.cfg.Sandbox == nil {
		return nil // a daemon that runs no jobs (tests of its API)
	}
	t := time.NewTicker(runtimeEvery)
	defer t.Stop()
	misses, gone := 0, false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		vctx, cancel := context.WithTimeout(ctx, runtimeTimeout)
		_, err := d.cfg.Sandbox.Version(vctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case err != nil:
			misses++
			if misses >= runtimeMisses && !gone {
				gone = true
				d.log.Error("the container runtime stopped answering; no work is offered until it is back", "err", err, "fix", RuntimeFix)
				if d.gov.SetRuntime(RuntimeFix) != nil {
					return nil // governor stopped
				}
			}
		case gone:
			misses, gone = 0, false
			d.log.Info("the container runtime answers again")
			// The leftovers first: their processes may still run (the
			// shim kept them while containerd was gone), on devices the
			// governor is about to offer again.
			d.leftovers.removeAll(ctx, d)
			if d.gov.SetRuntime("") != nil {
				return nil
			}
		default:
			misses = 0
			d.leftovers.removeAll(ctx, d) // a removal that failed for another reason
		}
	}
}

// leftoverJobs are ended jobs whose removal failed (containerd was gone):
// they are removed once it answers, not left until the next start. A job
// whose wait broke off with containerd may still run under its shim, so
// it is killed first.
type leftoverJobs struct {
	mu   sync.Mutex
	jobs []*sandbox.Job
}

func (l *leftoverJobs) add(j *sandbox.Job) {
	l.mu.Lock()
	l.jobs = append(l.jobs, j)
	l.mu.Unlock()
}

// removeAll tries each leftover's removal again and keeps those that fail.
func (l *leftoverJobs) removeAll(ctx context.Context, d *Daemon) {
	l.mu.Lock()
	jobs := l.jobs
	l.jobs = nil
	l.mu.Unlock()
	for _, j := range jobs {
		_ = j.Stop(ctx, 0) // kills it if it still runs; Cleanup reports what fails
		if err := j.Cleanup(ctx); err != nil {
			d.log.Warn("removing an ended job, again", "job", j.ID(), "err", err)
			l.add(j)
			continue
		}
		d.log.Info("removed an ended job left while the container runtime was gone", "job", j.ID())
	}
}
