package testenv

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB whose Fatalf records instead of stopping.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestWaitFor(t *testing.T) {
	var n atomic.Int32
	WaitFor(t, "the third look", 10*time.Second, func() bool { return n.Add(1) == 3 })
	if n.Load() != 3 {
		t.Fatalf("looked %d times, want 3", n.Load())
	}
	n.Store(0)
	WaitFor(t, "no error", 10*time.Second, func() error {
		if n.Add(1) < 2 {
			return errors.New("not ready")
		}
		return nil
	})

	r := &recorder{TB: t}
	WaitFor(r, "a bool that never holds", 50*time.Millisecond, func() bool { return false })
	if !strings.Contains(r.failed, "a bool that never holds") {
		t.Errorf("failure %q does not name what it waited for", r.failed)
	}
	r.failed = ""
	WaitFor(r, "an error that stays", 50*time.Millisecond, func() error { return errors.New("the last error") })
	if !strings.Contains(r.failed, "an error that stays") || !strings.Contains(r.failed, "the last error") {
		t.Errorf("failure %q lacks what or the last error", r.failed)
	}
}
