package presence

import (
	"context"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// mutterWatch turns GNOME's idle monitor watches into input events, so
// the sensor on GNOME Wayland does not poll either: a lasting idle watch
// at inputQuiet arms a one-shot user-active watch, and that watch firing
// is input after a quiet second (what the X11 idle alarm reports).
type mutterWatch struct {
	obj     dbus.BusObject
	conn    *dbus.Conn
	signals chan *dbus.Signal
	input   chan struct{}
	stop    chan struct{}
	done    chan struct{}

	mu       sync.Mutex
	idleID   uint32
	activeID uint32 // 0: none armed
}

// watchMutter adds the idle watch (and the user-active watch when the
// owner is already away) and follows WatchFired until close.
func watchMutter(ctx context.Context, conn *dbus.Conn, idleNow uint64) (*mutterWatch, error) {
	w := &mutterWatch{obj: conn.Object(mutterName, mutterPath), conn: conn, signals: make(chan *dbus.Signal, 16),
		input: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchInterface(mutterIface), dbus.WithMatchMember("WatchFired"),
		dbus.WithMatchObjectPath(mutterPath)); err != nil {
		return nil, fmt.Errorf("watching mutter's WatchFired: %w", err)
	}
	conn.Signal(w.signals)
	if err := w.call(ctx, "AddIdleWatch", &w.idleID, uint64(inputQuiet.Milliseconds())); err != nil {
		conn.RemoveSignal(w.signals)
		return nil, err
	}
	if idleNow >= uint64(inputQuiet.Milliseconds()) {
		if err := w.armActive(ctx); err != nil {
			w.remove(ctx)
			return nil, err
		}
	}
	go w.follow()
	return w, nil
}

func (w *mutterWatch) call(ctx context.Context, method string, out *uint32, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	if err := w.obj.CallWithContext(ctx, mutterIface+"."+method, 0, args...).Store(out); err != nil {
		return fmt.Errorf("mutter %s: %w", method, err)
	}
	return nil
}

func (w *mutterWatch) armActive(ctx context.Context) error {
	var id uint32
	if err := w.call(ctx, "AddUserActiveWatch", &id); err != nil {
		return err
	}
	w.mu.Lock()
	w.activeID = id
	w.mu.Unlock()
	return nil
}

// follow handles WatchFired: the idle watch arms the user-active watch
// (Mutter removes a user-active watch once it fires), whose firing is
// input. The calls run here, so a watch's id is known before its signal
// is read.
func (w *mutterWatch) follow() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case s, ok := <-w.signals:
			if !ok {
				return
			}
			if s.Name != mutterIface+".WatchFired" || s.Path != mutterPath || len(s.Body) != 1 {
				continue
			}
			id, _ := s.Body[0].(uint32)
			w.mu.Lock()
			idle, active := id == w.idleID, id != 0 && id == w.activeID
			if active {
				w.activeID = 0
			}
			w.mu.Unlock()
			switch {
			case active:
				select {
				case w.input <- struct{}{}:
				default:
				}
			case idle:
				w.mu.Lock()
				armed := w.activeID != 0
				w.mu.Unlock()
				if !armed {
					w.armAndCheck()
				}
			}
		}
	}
}

// armAndCheck arms the user-active watch, then reads idle time: input
// between the idle watch firing and the arming would otherwise wait for
// the next input. A failure leaves the heartbeat to find the input.
func (w *mutterWatch) armAndCheck() {
	ctx, cancel := context.WithTimeout(context.Background(), dbusTimeout)
	defer cancel()
	if err := w.armActive(ctx); err != nil {
		return
	}
	var ms uint64
	if err := w.obj.CallWithContext(ctx, mutterIface+".GetIdletime", 0).Store(&ms); err == nil && ms < uint64(inputQuiet.Milliseconds()) {
		select {
		case w.input <- struct{}{}:
		default:
		}
	}
}

// remove drops the watches from Mutter (it also drops them when the
// connection closes).
func (w *mutterWatch) remove(ctx context.Context) {
	w.mu.Lock()
	ids := []uint32{w.idleID, w.activeID}
	w.mu.Unlock()
	for _, id := range ids {
		if id != 0 {
			cctx, cancel := context.WithTimeout(ctx, dbusTimeout)
			_ = w.obj.CallWithContext(cctx, mutterIface+".RemoveWatch", 0, id).Err
			cancel()
		}
	}
	w.conn.RemoveSignal(w.signals)
}

func (w *mutterWatch) close() {
	close(w.stop)
	<-w.done
	w.remove(context.Background())
}
