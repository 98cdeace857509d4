package presence

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sparegpu/spare/presence/logindtest"
)

// TestSeats reads who holds each seat's active session from a stand-in
// logind on a real private dbus-daemon (logind itself needs systemd as
// PID 1), and says ErrNoLogind where nothing answers for logind.
func TestSeats(t *testing.T) {
	addr := logindtest.Bus(t)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
	ctx := context.Background()
	var s Seats
	defer s.Close()

	if _, err := s.ActiveUsers(ctx); !errors.Is(err, ErrNoLogind) {
		t.Fatalf("no logind on the bus: %v, want ErrNoLogind", err)
	}
	l := logindtest.Start(t, addr)
	if got, err := s.ActiveUsers(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no seats: %v %v", got, err)
	}
	l.SetActive(t, "seat0", 1000)
	l.SetActive(t, "seat1", -1)
	if got, err := s.ActiveUsers(ctx); err != nil || !slices.Equal(got, []int{1000}) {
		t.Fatalf("seat0 held by 1000, seat1 idle: %v %v", got, err)
	}
	l.SetActive(t, "seat0", 1001) // a user switch
	l.SetActive(t, "seat1", 1002)
	if got, err := s.ActiveUsers(ctx); err != nil || !slices.Equal(got, []int{1001, 1002}) {
		t.Fatalf("after the switch: %v %v", got, err)
	}
}
