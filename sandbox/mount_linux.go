package sandbox

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

const noFollow = unix.O_NOFOLLOW

// mountCapped mounts a tmpfs of size bytes at path owned by uid:gid. It
// returns false, and no error, when this process may not mount (not
// root): the directory is then made writable for the job and the cap is
// not enforced by the kernel.
func mountCapped(path string, size int64, uid, gid int) (bool, error) {
	opts := fmt.Sprintf("size=%d,mode=0755,uid=%d,gid=%d", size, uid, gid)
	err := unix.Mount("tmpfs", path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts)
	if errors.Is(err, unix.EPERM) {
		return false, unix.Chmod(path, 0o777)
	}
	return err == nil, err
}

func unmount(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if errors.Is(err, unix.EINVAL) { // not a mount point (any more)
		return nil
	}
	return err
}
