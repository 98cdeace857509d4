// Package filelock takes an exclusive lock on a file shared by processes
// (the wallet's keystore, the desktop app's tray and window processes
// writing one settings file). The kernel drops a lock when its holder
// dies, so a crash leaves nothing stuck.
package filelock

import "errors"

// ErrHeld is TryLock's answer while another holds the lock.
var ErrHeld = errors.New("the lock is held by another process")
