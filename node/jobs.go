package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/sandbox"
)

// EndGrace is how long an ended job gets to exit after SIGTERM.
const EndGrace = 5 * time.Second

// sandboxJobs carries out the governor's job actions on sandbox jobs. The
// market adds a job when it starts and learns of its end through Wait.
type sandboxJobs struct {
	mu   sync.Mutex
	jobs map[string]*sandbox.Job
}

func newSandboxJobs() *sandboxJobs { return &sandboxJobs{jobs: map[string]*sandbox.Job{}} }

func (s *sandboxJobs) add(j *sandbox.Job) {
	s.mu.Lock()
	s.jobs[j.ID()] = j
	s.mu.Unlock()
}

func (s *sandboxJobs) remove(id string) {
	s.mu.Lock()
	delete(s.jobs, id)
	s.mu.Unlock()
}

func (s *sandboxJobs) get(id string) (*sandbox.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return nil, fmt.Errorf("job %s is not running here", id)
	}
	return j, nil
}

// Freeze pauses the job's cgroup at once.
func (s *sandboxJobs) Freeze(ctx context.Context, id string) error {
	j, err := s.get(id)
	if err != nil {
		return err
	}
	return j.Pause(ctx)
}

// Thaw resumes a frozen job.
func (s *sandboxJobs) Thaw(ctx context.Context, id string) error {
	j, err := s.get(id)
	if err != nil {
		return err
	}
	return j.Resume(ctx)
}

// End stops the job (SIGTERM, then SIGKILL after EndGrace; a frozen job
// is killed at once), which frees its GPU memory. The job's owner sees it
// end through Wait and sends the final receipt.
func (s *sandboxJobs) End(ctx context.Context, id string, why governor.Reason) error {
	j, err := s.get(id)
	if err != nil {
		return err
	}
	return j.Stop(ctx, EndGrace)
}
