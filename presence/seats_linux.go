package presence

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// logind's seat and session properties that say who sits at the machine.
const (
	logindSeat = "org.freedesktop.login1.Seat"
	listSeats  = logindMgr + ".ListSeats"
	noSession  = dbus.ObjectPath("/")
	// maxSeats bounds how many seats are asked about.
	maxSeats = 64
)

// ErrNoLogind means logind cannot be asked who sits at the machine: no
// system bus, or nothing owns org.freedesktop.login1 on it (a machine or
// container without systemd).
var ErrNoLogind = errors.New("logind is not running")

// Seats asks logind, over the system D-Bus, who holds the active session
// of each seat: the person in front of the screen. The zero value connects
// to the system bus ($DBUS_SYSTEM_BUS_ADDRESS, or the standard socket) on
// first use and again after a failure. Safe for concurrent use.
type Seats struct {
	mu   sync.Mutex
	conn *dbus.Conn
}

// ActiveUsers returns the user IDs holding a seat's active session (none:
// nobody is at the machine, or only at a text console with no seat).
// The error wraps ErrNoLogind when logind cannot be asked at all.
func (s *Seats) ActiveUsers(ctx context.Context) ([]int, error) {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		c, err := dbus.ConnectSystemBus(dbus.WithContext(context.WithoutCancel(ctx)))
		if err != nil {
			return nil, fmt.Errorf("%w: system bus: %v", ErrNoLogind, err)
		}
		s.conn = c
	}
	users, err := activeUsers(ctx, s.conn)
	if err != nil && !errors.Is(err, ErrNoLogind) { // the bus may be gone: connect again next time
		s.conn.Close()
		s.conn = nil
	}
	return users, err
}

// Close drops the connection to the system bus.
func (s *Seats) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

func activeUsers(ctx context.Context, conn *dbus.Conn) ([]int, error) {
	var seats []struct {
		ID   string
		Path dbus.ObjectPath
	}
	err := conn.Object(logindName, logindPath).CallWithContext(ctx, listSeats, 0).Store(&seats)
	var de dbus.Error
	if errors.As(err, &de) && (de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" || de.Name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
		return nil, fmt.Errorf("%w: %s", ErrNoLogind, de.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("logind ListSeats: %w", err)
	}
	if len(seats) > maxSeats {
		seats = seats[:maxSeats]
	}
	var users []int
	for _, seat := range seats {
		var active struct {
			ID   string
			Path dbus.ObjectPath
		}
		if err := property(ctx, conn, seat.Path, logindSeat, "ActiveSession", &active); err != nil {
			return nil, err
		}
		if active.Path == noSession || active.Path == "" {
			continue
		}
		var user struct {
			UID  uint32
			Path dbus.ObjectPath
		}
		if err := property(ctx, conn, active.Path, logindSess, "User", &user); err != nil {
			return nil, err
		}
		users = append(users, int(user.UID))
	}
	return users, nil
}

// property reads one logind property into dst (a struct for D-Bus's
// (so) and (uo)).
func property(ctx context.Context, conn *dbus.Conn, path dbus.ObjectPath, iface, name string, dst any) error {
	var v dbus.Variant
	if err := conn.Object(logindName, path).CallWithContext(ctx, propsGet, 0, iface, name).Store(&v); err != nil {
		return fmt.Errorf("logind %s of %s: %w", name, path, err)
	}
	if err := dbus.Store([]any{v.Value()}, dst); err != nil {
		return fmt.Errorf("logind %s of %s: %w", name, path, err)
	}
	return nil
}
