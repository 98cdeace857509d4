package filelock

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestTryLock: while the lock is held (by another open of the file, as
// another process would hold it), TryLock answers ErrHeld at once; once
// released, it takes it.
func TestTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.lock")
	unlock, err := Lock(p)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := TryLock(p); !errors.Is(err, ErrHeld) {
		if u != nil {
			u()
		}
		t.Fatalf("TryLock while held: %v, want ErrHeld", err)
	}
	unlock()
	u, err := TryLock(p)
	if err != nil {
		t.Fatalf("TryLock once released: %v", err)
	}
	u()
}
