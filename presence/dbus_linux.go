package presence

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"
)

// D-Bus names of the idle and session services Spare reads.
const (
	mutterName  = "org.gnome.Mutter.IdleMonitor"
	mutterPath  = "/org/gnome/Mutter/IdleMonitor/Core"
	mutterIface = "org.gnome.Mutter.IdleMonitor"
	saverName   = "org.freedesktop.ScreenSaver"
	saverPath   = "/org/freedesktop/ScreenSaver"
	saverIface  = "org.freedesktop.ScreenSaver"
	logindName  = "org.freedesktop.login1"
	logindPath  = "/org/freedesktop/login1"
	logindMgr   = "org.freedesktop.login1.Manager"
	logindSess  = "org.freedesktop.login1.Session"
	logindSelf  = "/org/freedesktop/login1/session/auto"
	propsGet    = "org.freedesktop.DBus.Properties.Get"
	sleepSignal = "PrepareForSleep"
	dbusTimeout = 2 * time.Second
)

// idleDBus reads input idle time from GNOME's Mutter (milliseconds) or,
// failing that, the freedesktop ScreenSaver service (KDE; seconds).
// With Mutter, returning input arrives as a watch (see mutterWatch).
type idleDBus struct {
	conn   *dbus.Conn
	mutter bool
	watch  *mutterWatch // nil: poll
}

func openIdleDBus(ctx context.Context, conn *dbus.Conn) (*idleDBus, error) {
	d := &idleDBus{conn: conn, mutter: true}
	if idle, _, err := d.idle(ctx); err == nil {
		// Without the watches (an older Mutter), idle time is polled.
		d.watch, _ = watchMutter(ctx, conn, uint64(idle.Milliseconds()))
		return d, nil
	}
	d.mutter = false
	if _, _, err := d.idle(ctx); err != nil {
		return nil, fmt.Errorf("%w: neither %s nor %s answers: %v", ErrUnsupported, mutterName, saverName, err)
	}
	return d, nil
}

func (d *idleDBus) idle(ctx context.Context) (time.Duration, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	if d.mutter {
		var ms uint64
		err := d.conn.Object(mutterName, mutterPath).CallWithContext(ctx, mutterIface+".GetIdletime", 0).Store(&ms)
		if err != nil {
			return 0, false, fmt.Errorf("mutter GetIdletime: %w", err)
		}
		return time.Duration(ms) * time.Millisecond, true, nil
	}
	var s uint32
	err := d.conn.Object(saverName, saverPath).CallWithContext(ctx, saverIface+".GetSessionIdleTime", 0).Store(&s)
	if err != nil {
		return 0, false, fmt.Errorf("screensaver GetSessionIdleTime: %w", err)
	}
	return time.Duration(s) * time.Second, true, nil
}

// input delivers input after a quiet second; nil without Mutter's watches.
func (d *idleDBus) input() <-chan struct{} {
	if d.watch == nil {
		return nil
	}
	return d.watch.input
}

func (d *idleDBus) close() {
	if d.watch != nil {
		d.watch.close()
	}
}

func (d *idleDBus) name() string {
	if d.mutter {
		return "mutter"
	}
	return "screensaver"
}

// screenSaverActive asks org.freedesktop.ScreenSaver whether it is active.
func screenSaverActive(ctx context.Context, conn *dbus.Conn) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	var on bool
	err := conn.Object(saverName, saverPath).CallWithContext(ctx, saverIface+".GetActive", 0).Store(&on)
	return on, err
}

// logind reads the session's IdleHint and LockedHint and follows the
// manager's PrepareForSleep signal on the system bus.
type logind struct {
	conn     *dbus.Conn
	session  dbus.ObjectPath
	sleeping atomic.Bool
	signals  chan *dbus.Signal
	done     chan struct{}
}

func openLogind(ctx context.Context, conn *dbus.Conn, session dbus.ObjectPath) (*logind, error) {
	if session == "" {
		session = logindSelf
	}
	l := &logind{conn: conn, session: session, signals: make(chan *dbus.Signal, 8), done: make(chan struct{})}
	if _, err := l.hints(ctx); err != nil {
		return nil, fmt.Errorf("%w: logind session: %v", ErrUnsupported, err)
	}
	if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchInterface(logindMgr), dbus.WithMatchMember(sleepSignal),
		dbus.WithMatchObjectPath(logindPath)); err != nil {
		return nil, fmt.Errorf("watching PrepareForSleep: %w", err)
	}
	conn.Signal(l.signals)
	go l.follow()
	return l, nil
}

func (l *logind) follow() {
	for {
		select {
		case <-l.done:
			return
		case s, ok := <-l.signals:
			if !ok {
				return
			}
			if s.Name == logindMgr+"."+sleepSignal && len(s.Body) == 1 {
				if v, ok := s.Body[0].(bool); ok {
					l.sleeping.Store(v)
				}
			}
		}
	}
}

type hints struct{ idle, locked bool }

func (l *logind) hints(ctx context.Context) (hints, error) {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	obj := l.conn.Object(logindName, l.session)
	var h hints
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"IdleHint", &h.idle}, {"LockedHint", &h.locked}} {
		var v dbus.Variant
		if err := obj.CallWithContext(ctx, propsGet, 0, logindSess, p.name).Store(&v); err != nil {
			return hints{}, fmt.Errorf("logind %s: %w", p.name, err)
		}
		b, ok := v.Value().(bool)
		if !ok {
			return hints{}, fmt.Errorf("logind %s: not a boolean", p.name)
		}
		*p.dst = b
	}
	return h, nil
}

func (l *logind) close() {
	l.conn.RemoveSignal(l.signals)
	close(l.done)
}
