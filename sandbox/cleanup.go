package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/snapshots"
)

// CleanupReport lists what CleanupLeftovers removed.
type CleanupReport struct {
	Containers []string `json:"containers"`
	Snapshots  []string `json:"snapshots"`
}

// managedFilter selects objects Spare created.
const managedFilter = `labels."` + LabelManaged + `"==true`

// CleanupLeftovers removes the containers, snapshots and job files of
// Spare processes that are no longer running (a crash, a SIGKILL). It
// leaves alone everything without Spare's labels and everything whose
// owner still runs.
func (s *Sandbox) CleanupLeftovers(ctx context.Context) (CleanupReport, error) {
	ctx = s.ns(ctx)
	var rep CleanupReport
	var errs []error
	cs, err := s.client.Containers(ctx, managedFilter)
	if err != nil {
		return rep, fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range cs {
		labels, err := c.Labels(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ownerFromLabels(labels).alive() {
			continue
		}
		if err := s.removeContainer(ctx, c, labels[LabelWorkDir]); err != nil {
			errs = append(errs, fmt.Errorf("removing leftover %s: %w", c.ID(), err))
			continue
		}
		rep.Containers = append(rep.Containers, c.ID())
		s.log.Info("removed leftover job", "container", c.ID(), "job", labels[LabelJob])
	}
	// Snapshots whose container was never created (a crash in between).
	sn := s.client.SnapshotService("")
	err = sn.Walk(ctx, func(ctx context.Context, info snapshots.Info) error {
		if info.Labels[LabelManaged] != "true" || ownerFromLabels(info.Labels).alive() {
			return nil
		}
		if _, err := s.client.LoadContainer(ctx, info.Name); err == nil {
			return nil // removed with its container above, or owned by a live one
		}
		if err := sn.Remove(ctx, info.Name); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("removing leftover snapshot %s: %w", info.Name, err))
			return nil
		}
		s.removeWorkDir(info.Labels[LabelWorkDir])
		rep.Snapshots = append(rep.Snapshots, info.Name)
		return nil
	}, managedFilter)
	if err != nil {
		errs = append(errs, fmt.Errorf("listing snapshots: %w", err))
	}
	return rep, errors.Join(errs...)
}

func (s *Sandbox) removeContainer(ctx context.Context, c containerd.Container, workDir string) error {
	if task, err := c.Task(ctx, nil); err == nil {
		st, _ := task.Status(ctx)
		_ = task.Kill(ctx, 9, containerd.WithKillAll)
		if st.Status == containerd.Paused {
			_ = task.Resume(ctx)
		}
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting task: %w", err)
		}
	} else if !isNotFound(err) {
		return fmt.Errorf("loading task: %w", err)
	}
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting container: %w", err)
	}
	s.removeWorkDir(workDir)
	return nil
}

// removeWorkDir unmounts and removes a job directory named by a label, but
// only when it lies inside this sandbox's work directory: labels are data,
// and data must not choose what the host deletes.
func (s *Sandbox) removeWorkDir(dir string) {
	if dir == "" {
		return
	}
	dir = filepath.Clean(dir)
	root := filepath.Clean(s.workDir) + string(filepath.Separator)
	if !strings.HasPrefix(dir, root) || strings.Contains(dir[len(root):], string(filepath.Separator)) {
		s.log.Warn("not removing job directory outside the work directory", "dir", dir)
		return
	}
	_ = unmount(filepath.Join(dir, "output"))
	if err := os.RemoveAll(dir); err != nil {
		s.log.Warn("removing job directory", "dir", dir, "err", err)
	}
}
