//go:build !windows

package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/defaults"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/image-spec/identity"
)

// labelGCRemapped, set on the image's own top snapshot, keeps the image's
// remapped copy alive as long as the image: containerd's garbage collector
// removes snapshots nothing refers to, and would otherwise delete the copy
// between jobs, making the next job of that image copy it up again. (The
// image record is no place for it: another import of the same image
// replaces the record and its labels; the unpacked snapshot stays.)
const labelGCRemapped = "containerd.io/gc.ref.snapshot." + defaults.DefaultSnapshotter + "/spare-userns"

// remappedSnapshot prepares a job's root filesystem on top of its
// image's remapped copy (made by the first job of the image), labelled
// like the job's container so that a crash before the container exists
// still leaves a snapshot CleanupLeftovers finds.
func (s *Sandbox) remappedSnapshot(id string, img containerd.Image, labels map[string]string) containerd.NewContainerOpts {
	return func(ctx context.Context, client *containerd.Client, c *containers.Container) error {
		if c.Snapshotter == "" {
			c.Snapshotter = defaults.DefaultSnapshotter
		}
		sn := client.SnapshotService(c.Snapshotter)
		base, err := s.remappedBase(ctx, img, sn)
		if err != nil {
			return err
		}
		_, err = sn.Prepare(ctx, id, base, snapshots.WithLabels(labels))
		if errdefs.IsNotFound(err) {
			// The copy went between the look-up and now: the collector took
			// it after another import of the image replaced the record that
			// referred to it. Make it again.
			if base, err = s.remappedBase(ctx, img, sn); err == nil {
				_, err = sn.Prepare(ctx, id, base, snapshots.WithLabels(labels))
			}
		}
		if err != nil {
			return fmt.Errorf("preparing the job's root filesystem: %w", err)
		}
		c.SnapshotKey = id
		c.Image = img.Name()
		return nil
	}
}

// remappedBase returns the key of the image's copy whose owners are
// shifted into the jobs' uid range, making it when it does not exist.
func (s *Sandbox) remappedBase(ctx context.Context, img containerd.Image, sn snapshots.Snapshotter) (string, error) {
	diffIDs, err := img.RootFS(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the image's layers: %w", err)
	}
	parent := identity.ChainID(diffIDs).String()
	key := remappedKey(parent)
	if _, err := sn.Stat(ctx, key); err == nil {
		return key, nil
	} else if !errdefs.IsNotFound(err) {
		return "", fmt.Errorf("looking up the image's remapped copy: %w", err)
	}
	// The lease holds what is made here until the image refers to it.
	ctx, done, err := s.client.WithLease(ctx)
	if err != nil {
		return "", fmt.Errorf("taking a lease for the image's remapped copy: %w", err)
	}
	defer done(context.WithoutCancel(ctx))
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	work := key + "-making-" + hex.EncodeToString(suffix[:])
	mounts, err := sn.Prepare(ctx, work, parent)
	if err != nil {
		return "", fmt.Errorf("copying the image for its user namespace: %w", err)
	}
	err = mount.WithTempMount(ctx, mounts, func(root string) error {
		return filepath.WalkDir(root, shiftOwner)
	})
	if err == nil {
		err = sn.Commit(ctx, key, work)
		if errdefs.IsAlreadyExists(err) { // another job of this image made it first
			err = sn.Remove(ctx, work)
		}
	} else {
		_ = sn.Remove(context.WithoutCancel(ctx), work)
	}
	if err != nil {
		return "", fmt.Errorf("shifting the image's owners into the job's uid range: %w", err)
	}
	return key, keepRemapped(ctx, sn, parent, key)
}

// remappedKey names the remapped copy of the snapshot chain parent.
func remappedKey(parent string) string {
	return fmt.Sprintf("%s-userns-%d-%d", parent, UserNSBase, UserNSSize)
}

// keepRemapped makes the image's top snapshot, parent, refer to its
// remapped copy key.
func keepRemapped(ctx context.Context, sn snapshots.Snapshotter, parent, key string) error {
	info := snapshots.Info{Name: parent, Labels: map[string]string{labelGCRemapped: key}}
	if _, err := sn.Update(ctx, info, "labels."+labelGCRemapped); err != nil {
		return fmt.Errorf("keeping the image's remapped copy: %w", err)
	}
	return nil
}

// shiftOwner moves a file's owner and group into the jobs' range, as
// containerd's own remapping does: without following links, and keeping
// setuid, setgid and sticky bits, which chown clears.
func shiftOwner(path string, d fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner information", path)
	}
	if st.Uid >= UserNSSize || st.Gid >= UserNSSize {
		return fmt.Errorf("%s: owner %d:%d is outside the job's range 0-%d", path, st.Uid, st.Gid, UserNSSize-1)
	}
	if err := os.Lchown(path, int(UserNSBase+st.Uid), int(UserNSBase+st.Gid)); err != nil {
		return err
	}
	if m := info.Mode(); m&fs.ModeSymlink == 0 && m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		return os.Chmod(path, m)
	}
	return nil
}
