// Package logindtest is a stand-in for systemd-logind on a private D-Bus,
// for tests of what Spare reads from it: which user holds each seat's
// active session (Manager.ListSeats, Seat.ActiveSession, Session.User).
// logind itself cannot run here: it needs systemd as PID 1. The bus is a
// real dbus-daemon; only the service answering on it is a stand-in.
package logindtest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/sparegpu/spare/internal/testenv"
)

const (
	name      = "org.freedesktop.login1"
	root      = dbus.ObjectPath("/org/freedesktop/login1")
	manager   = "org.freedesktop.login1.Manager"
	seatIface = "org.freedesktop.login1.Seat"
	sessIface = "org.freedesktop.login1.Session"
	props     = "org.freedesktop.DBus.Properties"
)

// Logind answers for seats whose active session the test sets.
type Logind struct {
	conn   *dbus.Conn
	mu     sync.Mutex
	seats  []string       // in the order they appeared
	active map[string]int // seat → uid of its active session; -1: none
}

// Bus starts a private dbus-daemon for the test and returns its address,
// with nothing serving login1 on it (a machine without logind).
func Bus(t testing.TB) string { return testenv.SessionBus(t) }

// Start serves a stand-in login1 on the bus at addr until the test ends.
func Start(t testing.TB, addr string) *Logind {
	t.Helper()
	c, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	l := &Logind{conn: c, active: map[string]int{}}
	if err := c.Export(managerObj{l}, root, manager); err != nil {
		t.Fatal(err)
	}
	r, err := c.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v %v", name, r, err)
	}
	return l
}

// SetActive makes uid the user of seat's active session (uid < 0: the
// seat has no active session), adding the seat when it is new.
func (l *Logind) SetActive(t testing.TB, seat string, uid int) {
	t.Helper()
	l.mu.Lock()
	_, known := l.active[seat]
	l.active[seat] = uid
	if !known {
		l.seats = append(l.seats, seat)
	}
	l.mu.Unlock()
	if !known {
		if err := l.conn.Export(seatObj{l, seat}, seatPath(seat), props); err != nil {
			t.Fatal(err)
		}
	}
	if uid >= 0 {
		if err := l.conn.Export(sessionObj{uid}, sessionPath(uid), props); err != nil {
			t.Fatal(err)
		}
	}
}

func seatPath(seat string) dbus.ObjectPath { return root + "/seat/" + dbus.ObjectPath(seat) }

func sessionPath(uid int) dbus.ObjectPath {
	return root + dbus.ObjectPath(fmt.Sprintf("/session/u%d", uid))
}

type seatRef struct {
	ID   string
	Path dbus.ObjectPath
}

type managerObj struct{ l *Logind }

func (m managerObj) ListSeats() ([]seatRef, *dbus.Error) {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	out := []seatRef{}
	for _, s := range m.l.seats {
		out = append(out, seatRef{s, seatPath(s)})
	}
	return out, nil
}

type seatObj struct {
	l    *Logind
	seat string
}

func (s seatObj) Get(iface, prop string) (dbus.Variant, *dbus.Error) {
	if iface != seatIface || prop != "ActiveSession" {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{iface + "." + prop})
	}
	s.l.mu.Lock()
	uid := s.l.active[s.seat]
	s.l.mu.Unlock()
	if uid < 0 {
		return dbus.MakeVariant(seatRef{"", "/"}), nil
	}
	return dbus.MakeVariant(seatRef{fmt.Sprintf("u%d", uid), sessionPath(uid)}), nil
}

type sessionObj struct{ uid int }

func (s sessionObj) Get(iface, prop string) (dbus.Variant, *dbus.Error) {
	if iface != sessIface || prop != "User" {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{iface + "." + prop})
	}
	return dbus.MakeVariant(struct {
		UID  uint32
		Path dbus.ObjectPath
	}{uint32(s.uid), root + dbus.ObjectPath(fmt.Sprintf("/user/_%d", s.uid))}), nil
}
