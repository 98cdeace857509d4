//go:build !windows

package filelock

import (
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive lock on path (created 0600), waiting while
// another process (or another open of the file) holds it. The kernel
// drops the lock when its holder dies, so a crash leaves nothing stuck.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
