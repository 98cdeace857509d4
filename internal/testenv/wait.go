package testenv

import (
	"testing"
	"time"
)

// WaitFor polls check until it holds and fails the test when it has not
// within the given time. check is a func() bool, or a func() error whose
// last error is in the failure. It is for state that no event announces
// (a daemon's status, a window's pixels, pubsub mesh membership): it
// looks at once, then every 10 ms, backing off to 200 ms for checks
// that stay false, so an expensive check (a screenshot) does not load a
// busy machine.
func WaitFor[C func() bool | func() error](t testing.TB, what string, within time.Duration, check C) {
	t.Helper()
	try := func() error {
		switch c := any(check).(type) {
		case func() bool:
			if c() {
				return nil
			}
			return errNotYet
		case func() error:
			return c()
		}
		panic("unreachable")
	}
	deadline := time.Now().Add(within)
	pause := 10 * time.Millisecond
	for {
		err := try()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if err == errNotYet {
				t.Fatalf("timed out after %v waiting for %s", within, what)
			} else {
				t.Fatalf("timed out after %v waiting for %s: %v", within, what, err)
			}
			return
		}
		time.Sleep(pause) // the poll interval, not synchronisation
		pause = min(2*pause, 200*time.Millisecond)
	}
}

type notYet struct{}

func (notYet) Error() string { return "not yet" }

var errNotYet error = notYet{}
