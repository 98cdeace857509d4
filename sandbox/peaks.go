package sandbox

import (
	"context"
	"sync"
	"time"

	cgroup1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/typeurl/v2"
)

// Peaks are the most a job used of each resource, sampled while it ran.
type Peaks struct {
	MemoryBytes int64 `json:"memory_bytes"`
	CPUNanos    int64 `json:"cpu_ns"` // total CPU time used
	Pids        int64 `json:"pids"`
	OOMKills    int64 `json:"oom_kills"`
}

// sampleEvery is how often a running job's cgroup is read.
const sampleEvery = 250 * time.Millisecond

// peakSampler reads a task's cgroup metrics until stopped.
type peakSampler struct {
	task   containerd.Task
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	peaks  Peaks
}

func startPeakSampler(ctx context.Context, task containerd.Task) *peakSampler {
	ctx, cancel := context.WithCancel(ctx)
	p := &peakSampler{task: task, cancel: cancel, done: make(chan struct{})}
	// The first sample waits a tick: a job that has only just started
	// has used nothing yet, and the call would compete with its start.
	// stop takes the last one (the cgroup's peaks and totals).
	go func() {
		defer close(p.done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			p.sample(ctx)
		}
	}()
	return p
}

// stop ends sampling, takes a last sample and returns the peaks.
func (p *peakSampler) stop(ctx context.Context) Peaks {
	p.cancel()
	<-p.done
	p.sample(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peaks
}

func (p *peakSampler) sample(ctx context.Context) {
	m, err := p.task.Metrics(ctx)
	if err != nil || m == nil || m.Data == nil {
		return
	}
	v, err := typeurl.UnmarshalAny(m.Data)
	if err != nil {
		return
	}
	var s Peaks
	switch v := v.(type) {
	case *cgroup1.Metrics:
		if v.Memory != nil && v.Memory.Usage != nil {
			s.MemoryBytes = int64(v.Memory.Usage.Max)
		}
		if v.CPU != nil && v.CPU.Usage != nil {
			s.CPUNanos = int64(v.CPU.Usage.Total)
		}
		if v.Pids != nil {
			s.Pids = int64(v.Pids.Current)
		}
		if v.MemoryOomControl != nil {
			s.OOMKills = int64(v.MemoryOomControl.OomKill)
		}
	case *cgroup2.Metrics:
		if v.Memory != nil {
			s.MemoryBytes = int64(max(v.Memory.Usage, v.Memory.MaxUsage))
		}
		if v.CPU != nil {
			s.CPUNanos = int64(v.CPU.UsageUsec) * 1000
		}
		if v.Pids != nil {
			s.Pids = int64(v.Pids.Current)
		}
		if v.MemoryEvents != nil {
			s.OOMKills = int64(v.MemoryEvents.OomKill)
		}
	default:
		return
	}
	p.mu.Lock()
	p.peaks.MemoryBytes = max(p.peaks.MemoryBytes, s.MemoryBytes)
	p.peaks.CPUNanos = max(p.peaks.CPUNanos, s.CPUNanos)
	p.peaks.Pids = max(p.peaks.Pids, s.Pids)
	p.peaks.OOMKills = max(p.peaks.OOMKills, s.OOMKills)
	p.mu.Unlock()
}
