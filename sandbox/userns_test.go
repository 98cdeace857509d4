//go:build linux

package sandbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/defaults"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/image-spec/identity"

	"github.com/sparegpu/spare/internal/testenv"
)

// collectGarbage runs containerd's garbage collector now: deleting a
// lease synchronously waits for a collection.
func collectGarbage(t *testing.T, sb *Sandbox) {
	t.Helper()
	ctx := sb.ns(context.Background())
	ls := sb.client.LeasesService()
	l, err := ls.Create(ctx, leases.WithRandomID())
	if err != nil {
		t.Fatal(err)
	}
	if err := ls.Delete(ctx, l, leases.SynchronousDelete); err != nil {
		t.Fatal(err)
	}
}

// TestRemappedCopyLivesWithImage checks that the image's copy in the jobs'
// uid range survives containerd's garbage collector between jobs (it is
// made once per image, not once per job), goes when the image goes, and
// that a job's own snapshot carries Spare's labels from the start.
func TestRemappedCopyLivesWithImage(t *testing.T) {
	sb, img := testSandbox(t)
	testenv.Need(t, sb.userns, "user namespaces", "a kernel with user.max_user_namespaces > 0")
	ctx := sb.ns(context.Background())
	sn := sb.client.SnapshotService(defaults.DefaultSnapshotter)
	run := func() {
		t.Helper()
		res, _, err := sb.Run(ctx, JobSpec{Image: img.Digest, Args: []string{"exit", "0"}}, "")
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("job: %+v, %v", res, err)
		}
	}
	run()
	cimg, err := sb.lookup(ctx, img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	diffIDs, err := cimg.RootFS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := identity.ChainID(diffIDs).String() + "-userns-2130706432-65536"
	if key != remappedKey(identity.ChainID(diffIDs).String()) {
		t.Fatalf("remapped copy named %s", remappedKey(identity.ChainID(diffIDs).String()))
	}
	collectGarbage(t, sb)
	before, err := sn.Stat(ctx, key)
	if err != nil {
		t.Fatalf("the remapped copy did not survive garbage collection: %v", err)
	}
	run()
	after, err := sn.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Created.Equal(before.Created) {
		t.Errorf("the remapped copy was made again (created %s, then %s)", before.Created, after.Created)
	}

	// Another import of the same archive (another process's provider)
	// replaces the image records; the copy must stay referred to.
	archive, err := probeArchive()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Import(ctx, archive, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	collectGarbage(t, sb)
	if _, err := sn.Stat(ctx, key); err != nil {
		t.Fatalf("the remapped copy did not survive a re-import: %v", err)
	}
	// Were it collected all the same (the records replaced by something
	// that drops the reference), the next job makes it again.
	parent := identity.ChainID(diffIDs).String()
	if _, err := sn.Update(ctx, snapshots.Info{Name: parent}, "labels."+labelGCRemapped); err != nil {
		t.Fatal(err)
	}
	collectGarbage(t, sb)
	if _, err := sn.Stat(ctx, key); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("an unreferenced copy survived garbage collection: %v", err)
	}
	j0, err := sb.Start(ctx, JobSpec{Image: img.Digest, Args: []string{"exit", "0"}})
	if err != nil {
		t.Fatalf("a job after its image's copy was collected: %v", err)
	}
	if _, err := j0.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := j0.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}

	j, err := sb.Start(ctx, JobSpec{Image: img.Digest, Args: []string{"sleep", "30s"}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := sn.Stat(ctx, j.ID())
	if err != nil {
		t.Fatal(err)
	}
	if info.Labels[LabelManaged] != "true" || info.Labels[LabelJob] != j.ID() || info.Parent != key {
		t.Errorf("job snapshot: labels %v, parent %s; want Spare's labels and parent %s", info.Labels, info.Parent, key)
	}
	if err := j.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := j.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}

	if err := sb.RemoveImage(ctx, img.Digest); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		collectGarbage(t, sb)
		_, err := sn.Stat(ctx, key)
		if errors.Is(err, errdefs.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the remapped copy outlived its image: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var left []string
	_ = sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error { left = append(left, i.Name); return nil })
	if len(left) > 0 {
		t.Errorf("snapshots left after removing the only image: %v", left)
	}
}
