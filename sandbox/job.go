package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/sparegpu/spare/internal/units"
)

// JobSpec describes one job. Only Image is required.
type JobSpec struct {
	// ID names the job; empty generates one. Letters, digits and '-' only.
	ID string
	// Image is an image name or digest in the store (see Import).
	Image string
	// Args replace the image's command; the entrypoint is kept. Empty:
	// the image's own command.
	Args []string
	// Env adds environment variables (KEY=VALUE) to the image's.
	Env []string
	// Inputs are host files or directories copied into /input, read-only.
	Inputs []string
	// GPUs are CDI device names ("nvidia.com/gpu=0"). Empty: no GPU.
	GPUs []string
	// Limits bound the job; zero fields take the sandbox defaults.
	Limits Limits
	// Stdout and Stderr, when set, receive the job's output live, up to
	// the log cap.
	Stdout, Stderr io.Writer
}

var jobIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$`)

// Job is a started job. Its methods are safe for concurrent use.
type Job struct {
	s         *Sandbox
	id        string
	dir       string
	limits    Limits
	container containerd.Container
	task      containerd.Task
	exited    chan struct{}         // closed once exit holds the task's exit status
	exit      containerd.ExitStatus // set before exited is closed
	output    *outputDir
	logs      *logSink
	started   time.Time
	peaks     *peakSampler

	mu     sync.Mutex
	reason string // why the job was ended by Spare, if it was
}

// Reasons a job ended other than by itself; see Result.Reason.
const (
	ReasonTimeout    = "timeout"
	ReasonMemory     = "memory"
	ReasonOutputFull = "output-full"
	ReasonStopped    = "stopped"
)

// Start creates and starts a job in the hardened sandbox. On error nothing
// it created is left behind.
func (s *Sandbox) Start(ctx context.Context, spec JobSpec) (_ *Job, err error) {
	ctx = s.ns(ctx)
	if spec.ID == "" {
		spec.ID = newJobID()
	}
	if !jobIDPattern.MatchString(spec.ID) {
		return nil, fmt.Errorf("job id %q: use 1-63 letters, digits and '-'", spec.ID)
	}
	lim := mergeLimits(spec.Limits, s.cfg.Limits).WithDefaults()
	if err := lim.Validate(s.host); err != nil {
		return nil, err
	}
	img, err := s.lookup(ctx, spec.Image)
	if err != nil {
		return nil, err
	}
	j := &Job{s: s, id: spec.ID, limits: lim, dir: filepath.Join(s.workDir, spec.ID)}
	defer func() {
		if err != nil {
			_ = j.Cleanup(context.WithoutCancel(ctx))
		}
	}()
	if err := os.Mkdir(j.dir, 0o711); err != nil {
		return nil, fmt.Errorf("creating job directory: %w", err)
	}
	inputDir := ""
	if len(spec.Inputs) > 0 {
		inputDir = filepath.Join(j.dir, "input")
		if err := copyInputs(spec.Inputs, inputDir); err != nil {
			return nil, err
		}
	}
	j.output, err = newOutputDir(filepath.Join(j.dir, "output"), lim.OutputBytes, s.hostID(JobUID), s.hostID(JobGID))
	if err != nil {
		return nil, err
	}
	labels := s.owner.labels()
	labels[LabelJob] = spec.ID
	labels[LabelWorkDir] = j.dir
	opts := hardenedSpec(lim, jobMounts{Input: inputDir, Output: j.output.path}, spec.GPUs, spec.Args, spec.Env, img)
	if s.userns {
		opts = append(opts, withUserNamespace())
	}
	j.container, err = s.client.NewContainer(ctx, spec.ID,
		containerd.WithContainerLabels(labels),
		containerd.WithImage(img),
		s.newSnapshot(spec.ID, img, labels),
		containerd.WithRuntime(Runtime, nil),
		containerd.WithNewSpec(opts...),
	)
	if err != nil {
		return nil, fmt.Errorf("creating container: %w", err)
	}
	j.logs = newLogSink(lim.LogBytes, spec.Stdout, spec.Stderr)
	fifoDir := filepath.Join(j.dir, "fifo")
	if err := os.Mkdir(fifoDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating log pipes: %w", err)
	}
	j.task, err = j.container.NewTask(ctx, cio.NewCreator(
		cio.WithStreams(nil, j.logs.stdout(), j.logs.stderr()), cio.WithFIFODir(fifoDir)))
	if err != nil {
		return nil, fmt.Errorf("creating task: %w", err)
	}
	// The exit channel must outlive a cancelled caller: Wait stops the job
	// and still needs its exit status.
	exitCh, err := j.task.Wait(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("waiting on task: %w", err)
	}
	// One receiver, many readers (Wait, Stop): the status is kept and
	// exited closed. The goroutine ends when the task does, or when the
	// connection to containerd goes and the channel closes.
	j.exited = make(chan struct{})
	go func() {
		st, ok := <-exitCh
		if !ok {
			st = *containerd.NewExitStatus(containerd.UnknownExitStatus, time.Time{}, errors.New("lost the job's exit status: the connection to containerd closed"))
		}
		j.exit = st
		close(j.exited)
	}()
	if err := j.task.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting job: %w", err)
	}
	j.started = time.Now()
	j.peaks = startPeakSampler(context.WithoutCancel(ctx), j.task)
	s.log.Debug("job started", "job", j.id, "image", spec.Image, "pid", j.task.Pid())
	return j, nil
}

// ID returns the job's ID.
func (j *Job) ID() string { return j.id }

// Pause freezes every process of the job (cgroup freezer). It returns
// once the job is frozen.
func (j *Job) Pause(ctx context.Context) error {
	if err := j.task.Pause(j.s.ns(ctx)); err != nil {
		return fmt.Errorf("pausing job %s: %w", j.id, err)
	}
	return nil
}

// Resume thaws a paused job.
func (j *Job) Resume(ctx context.Context) error {
	if err := j.task.Resume(j.s.ns(ctx)); err != nil {
		return fmt.Errorf("resuming job %s: %w", j.id, err)
	}
	return nil
}

// Stop asks the job to end with SIGTERM and kills it after grace. A
// frozen job is killed at once and thawed so it can die.
func (j *Job) Stop(ctx context.Context, grace time.Duration) error {
	j.setReason(ReasonStopped)
	return j.stop(ctx, grace)
}

func (j *Job) stop(ctx context.Context, grace time.Duration) error {
	ctx = j.s.ns(ctx)
	st, err := j.task.Status(ctx)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("stopping job %s: %w", j.id, err)
	}
	if st.Status == containerd.Stopped {
		return nil
	}
	if st.Status == containerd.Paused || grace <= 0 {
		return j.kill(ctx, st.Status == containerd.Paused)
	}
	if err := j.task.Kill(ctx, syscall.SIGTERM); err != nil && !isNotFound(err) {
		return fmt.Errorf("stopping job %s: %w", j.id, err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-t.C:
		return j.kill(ctx, false)
	case <-ctx.Done():
		return j.kill(context.WithoutCancel(ctx), false)
	case <-j.exited:
		return nil
	}
}

func (j *Job) kill(ctx context.Context, thaw bool) error {
	if err := j.task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !isNotFound(err) {
		return fmt.Errorf("killing job %s: %w", j.id, err)
	}
	if !thaw {
		return nil
	}
	// runc thaws the cgroup itself after killing every process in it;
	// older runtimes leave it frozen, and a frozen process cannot die.
	// Resuming a task that already died fails; that is the goal reached.
	if err := j.task.Resume(ctx); err != nil {
		j.s.log.Debug("thawing a killed job", "job", j.id, "err", err)
	}
	return nil
}

func (j *Job) setReason(r string) {
	j.mu.Lock()
	if j.reason == "" {
		j.reason = r
	}
	j.mu.Unlock()
}

// Result is how a job ended.
type Result struct {
	ID       string        `json:"job"`
	ExitCode int           `json:"exit_code"`
	Reason   string        `json:"reason,omitempty"` // set when Spare ended the job: timeout, memory, output-full, stopped
	Duration time.Duration `json:"-"`
	Peaks    Peaks         `json:"peaks"`
	// LogBytes is what the job wrote to stdout and stderr; LogDropped is
	// how much of it was over the log cap and not kept.
	LogBytes   int64  `json:"log_bytes"`
	LogDropped int64  `json:"log_dropped"`
	LogTail    string `json:"-"`
	// OutputBytes is what the job wrote under /output.
	OutputBytes int64 `json:"output_bytes"`
}

// Err returns an error wrapping ErrLimit when Spare ended the job for
// running past a limit, naming the limit; nil otherwise.
func (r Result) Err(l Limits) error {
	switch r.Reason {
	case ReasonTimeout:
		return fmt.Errorf("%w: the job ran past its time limit (%s) and was stopped", ErrLimit, l.Timeout)
	case ReasonMemory:
		return fmt.Errorf("%w: the job ran out of memory (limit %s) and was killed", ErrLimit, units.FormatBytes(l.MemoryBytes))
	case ReasonOutputFull:
		return fmt.Errorf("%w: the job filled its output cap (%s)", ErrLimit, units.FormatBytes(l.OutputBytes))
	}
	return nil
}

// hasExited reports whether the task's exit status has arrived.
func (j *Job) hasExited() bool {
	if j.exited == nil {
		return false
	}
	select {
	case <-j.exited:
		return true
	default:
		return false
	}
}

// Limits returns the limits the job runs under, defaults applied.
func (j *Job) Limits() Limits { return j.limits }

// Wait blocks until the job ends, enforcing its time limit. If ctx ends
// first the job is stopped. It does not remove the job: call Cleanup.
func (j *Job) Wait(ctx context.Context) (Result, error) {
	timer := time.NewTimer(time.Until(j.started.Add(j.limits.Timeout)))
	defer timer.Stop()
	select {
	case <-j.exited:
	case <-timer.C:
		j.setReason(ReasonTimeout)
		if err := j.stop(context.WithoutCancel(ctx), 2*time.Second); err != nil {
			return Result{}, err
		}
		<-j.exited
	case <-ctx.Done():
		if err := j.Stop(context.WithoutCancel(ctx), 2*time.Second); err != nil {
			return Result{}, err
		}
		<-j.exited
	}
	code, _, err := j.exit.Result()
	if err != nil {
		return Result{}, fmt.Errorf("job %s: %w", j.id, err)
	}
	// Closing the task's IO waits for the log pipes to drain.
	if j.task != nil {
		if io := j.task.IO(); io != nil {
			io.Wait()
		}
	}
	peaks := j.peaks.stop(context.WithoutCancel(ctx))
	r := Result{
		ID: j.id, ExitCode: int(code), Duration: time.Since(j.started), Peaks: peaks,
		LogBytes: j.logs.total(), LogDropped: j.logs.dropped(), LogTail: j.logs.tail(),
	}
	r.OutputBytes, _ = j.output.used()
	j.mu.Lock()
	r.Reason = j.reason
	j.mu.Unlock()
	switch {
	case r.Reason == "" && peaks.OOMKills > 0:
		r.Reason = ReasonMemory
	case r.Reason == "" && r.OutputBytes > j.limits.OutputBytes:
		// More than the cap, which the tmpfs cannot hold: sparse files.
		r.Reason = ReasonOutputFull
	case r.Reason == "" && code != 0 && r.OutputBytes >= j.limits.OutputBytes-j.limits.OutputBytes/100:
		r.Reason = ReasonOutputFull
	}
	return r, nil
}

// Outputs copies the job's output files into dst and returns them with
// their digests. Only regular files are copied; links are skipped.
func (j *Job) Outputs(dst string) ([]OutputFile, error) {
	return j.output.collect(dst)
}

// Cleanup removes the job's task, container, snapshot and files. It is
// safe to call more than once and on a partly started job.
func (j *Job) Cleanup(ctx context.Context) error {
	ctx = j.s.ns(ctx)
	var errs []error
	if j.task != nil {
		// A job that has ended needs no kill: that would cost two more
		// calls to the runtime on every job.
		var opts []containerd.ProcessDeleteOpts
		if !j.hasExited() {
			opts = append(opts, containerd.WithProcessKill)
		}
		if _, err := j.task.Delete(ctx, opts...); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting task: %w", err))
		}
	}
	if j.container != nil {
		if err := j.container.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting container: %w", err))
		}
	}
	if j.output != nil {
		if err := j.output.release(); err != nil {
			errs = append(errs, err)
		}
	}
	if j.dir != "" {
		if err := os.RemoveAll(j.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing job directory: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Run starts a job, waits for it, copies its outputs into outputDir (when
// set) and removes it.
func (s *Sandbox) Run(ctx context.Context, spec JobSpec, outputDir string) (Result, []OutputFile, error) {
	j, err := s.Start(ctx, spec)
	if err != nil {
		return Result{}, nil, err
	}
	defer j.Cleanup(context.WithoutCancel(ctx))
	res, err := j.Wait(ctx)
	if err != nil {
		return res, nil, err
	}
	var outs []OutputFile
	if outputDir != "" {
		outs, err = j.Outputs(outputDir)
	}
	return res, outs, err
}

func newJobID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "job-" + hex.EncodeToString(b[:])
}

// mergeLimits fills zero fields of l from def.
func mergeLimits(l, def Limits) Limits {
	if l.MilliCPU == 0 {
		l.MilliCPU = def.MilliCPU
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = def.MemoryBytes
	}
	if l.Pids == 0 {
		l.Pids = def.Pids
	}
	if l.OutputBytes == 0 {
		l.OutputBytes = def.OutputBytes
	}
	if l.TmpBytes == 0 {
		l.TmpBytes = def.TmpBytes
	}
	if l.LogBytes == 0 {
		l.LogBytes = def.LogBytes
	}
	if l.Timeout == 0 {
		l.Timeout = def.Timeout
	}
	return l
}

// Frozen reports whether the job's processes are frozen (paused).
func (j *Job) Frozen(ctx context.Context) (bool, error) {
	st, err := j.task.Status(j.s.ns(ctx))
	if err != nil {
		return false, fmt.Errorf("job %s status: %w", j.id, err)
	}
	return st.Status == containerd.Paused, nil
}

// PIDs returns the host PIDs of the job's processes.
func (j *Job) PIDs(ctx context.Context) ([]uint32, error) {
	ps, err := j.task.Pids(j.s.ns(ctx))
	if err != nil {
		return nil, fmt.Errorf("job %s processes: %w", j.id, err)
	}
	out := make([]uint32, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Pid)
	}
	return out, nil
}
