//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/oci"
)

// lineCounter counts the lines a job prints.
type lineCounter struct {
	mu sync.Mutex
	n  int
	ch chan struct{}
}

func newLineCounter() *lineCounter { return &lineCounter{ch: make(chan struct{}, 1)} }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += strings.Count(string(p), "\n")
	c.mu.Unlock()
	select {
	case c.ch <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (c *lineCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// waitAbove waits until more than n lines were printed.
func (c *lineCounter) waitAbove(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for c.count() <= n {
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("the job printed %d lines, waited for more than %d", c.count(), n)
		}
	}
}

func TestPauseResume(t *testing.T) {
	sb, img := testSandbox(t)
	ctx := context.Background()
	lines := newLineCounter()
	j, err := sb.Start(ctx, JobSpec{Image: img.Digest, Args: []string{"counter"}, Stdout: lines})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Cleanup(ctx)
	lines.waitAbove(t, 2)

	if err := j.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	frozenAt := lines.count()
	<-time.After(500 * time.Millisecond) // ten counter periods
	if n := lines.count(); n > frozenAt+1 {
		t.Fatalf("counter advanced from %d to %d while paused", frozenAt, n)
	}
	if err := j.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	lines.waitAbove(t, lines.count()+2)

	// Stopping a paused job must not hang.
	if err := j.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := j.Stop(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	res, err := j.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != ReasonStopped {
		t.Errorf("reason %q, want %q", res.Reason, ReasonStopped)
	}
	if err := j.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	assertNoContainers(t, sb)
}

// helperRun is the child process of TestLeftoversAfterKill (see
// TestMain): it starts a job, says so, and waits to be SIGKILLed.
func helperRun() {
	sb, err := New(context.Background(), Config{Socket: os.Getenv("SPARE_TEST_CONTAINERD"), WorkDir: os.Getenv("SPARE_HELPER_WORKDIR"), Namespace: os.Getenv("SPARE_HELPER_NAMESPACE")})
	if err != nil {
		panic(err)
	}
	j, err := sb.Start(context.Background(), JobSpec{Image: os.Getenv("SPARE_HELPER_IMAGE"), Args: []string{"sleep", "5m"}})
	if err != nil {
		panic(err)
	}
	os.Stdout.WriteString("started " + j.ID() + "\n")
	select {}
}

func TestLeftoversAfterKill(t *testing.T) {
	sb, img := testSandbox(t)
	ctx := sb.ns(context.Background())

	// A container in the same namespace that Spare did not create.
	foreign, err := sb.client.NewContainer(ctx, "not-spares",
		containerd.WithNewSnapshot("not-spares", containerd.NewImage(sb.client, mustImage(t, sb, img.Digest))),
		containerd.WithNewSpec(oci.WithDefaultSpec()))
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Delete(ctx, containerd.WithSnapshotCleanup)

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SPARE_HELPER_WORKDIR="+sb.workDir, "SPARE_HELPER_IMAGE="+img.Digest, "SPARE_HELPER_NAMESPACE="+sb.cfg.Namespace)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := waitStarted(t, out)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	c, err := sb.client.LoadContainer(ctx, id)
	if err != nil {
		t.Fatalf("the killed process's container should still exist before cleanup: %v", err)
	}
	if task, err := c.Task(ctx, nil); err != nil {
		t.Fatalf("its task should still run: %v", err)
	} else if st, _ := task.Status(ctx); st.Status != containerd.Running {
		t.Fatalf("its task is %s, want running", st.Status)
	}

	rep, err := sb.CleanupLeftovers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Containers) != 1 || rep.Containers[0] != id {
		t.Errorf("cleanup removed %v, want [%s]", rep.Containers, id)
	}
	if _, err := sb.client.LoadContainer(ctx, id); !isNotFound(err) {
		t.Errorf("leftover container still there: %v", err)
	}
	if _, err := sb.client.SnapshotService("").Stat(ctx, id); !isNotFound(err) {
		t.Errorf("leftover snapshot still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sb.workDir, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover job directory still there: %v", err)
	}
	if _, err := sb.client.LoadContainer(ctx, "not-spares"); err != nil {
		t.Errorf("cleanup touched a container it does not own: %v", err)
	}
}

func waitStarted(t *testing.T, r io.Reader) string {
	t.Helper()
	ch := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "started "); ok {
				ch <- id
			}
		}
		close(ch)
	}()
	select {
	case id, ok := <-ch:
		if !ok {
			t.Fatal("helper process exited without starting a job")
		}
		return id
	case <-time.After(60 * time.Second):
		t.Fatal("helper process did not start a job within a minute")
	}
	return ""
}

func mustImage(t *testing.T, sb *Sandbox, ref string) (img images.Image) {
	t.Helper()
	i, err := sb.lookup(sb.ns(context.Background()), ref)
	if err != nil {
		t.Fatal(err)
	}
	return i.Metadata()
}

// TestPeaks checks the resource peaks a job's result reports: memory it
// touched and CPU it used, read from its cgroup after it ended, and its
// process count from the samples taken while it ran.
func TestPeaks(t *testing.T) {
	sb, img := testSandbox(t)
	lim := Limits{MemoryBytes: 256 << 20, Timeout: time.Minute}

	r, res := runProbe(t, sb, img, lim, "balloon", "48")
	if !r.ok() {
		t.Fatalf("balloon: %v (exit %d)", r, res.ExitCode)
	}
	if res.Peaks.MemoryBytes < 48<<20 || res.Peaks.MemoryBytes > lim.MemoryBytes {
		t.Errorf("memory peak %d bytes after touching 48 MiB under a %d-byte limit", res.Peaks.MemoryBytes, lim.MemoryBytes)
	}
	if res.Peaks.CPUNanos <= 0 || res.Peaks.OOMKills != 0 {
		t.Errorf("peaks %+v: want CPU time used and no OOM kill", res.Peaks)
	}
	t.Logf("48 MiB balloon: %+v", res.Peaks)

	// The probe is one process of several threads; each counts as a task
	// in the cgroup's pids.
	r, res = runProbe(t, sb, img, lim, "sleep", "700ms")
	if !r.ok() {
		t.Fatalf("sleep: %v (exit %d)", r, res.ExitCode)
	}
	if res.Peaks.Pids < 1 || res.Peaks.Pids > int64(DefaultLimits.Pids) {
		t.Errorf("pids peak %d while the job slept, want at least 1 and at most the limit", res.Peaks.Pids)
	}
	t.Logf("sleeping probe: %+v", res.Peaks)
}
