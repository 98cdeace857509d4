package presence

import (
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/screensaver"
	"github.com/jezek/xgb/xinerama"
	"github.com/jezek/xgb/xproto"
)

func init() {
	// xgb logs every unknown event to stderr; Spare logs through slog.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// X11 reads input idle time through the MIT-SCREEN-SAVER extension and
// the fullscreen window through EWMH properties, with a pure-Go client.
//
// Returning input arrives as an event: an alarm on the SYNC extension's
// IDLETIME counter (see xsync_linux.go) fires the moment input follows a
// quiet second, so nothing polls while the owner is away. Where the server
// lacks SYNC or IDLETIME, Input returns nil and Watch polls Idle at
// Governor.PollInterval instead (50 ms while a job runs, to meet the
// 150 ms give-back goal). xgb has no XInput2 binding and cannot read the
// long GenericEvents that XI2 raw events arrive in.
type X11 struct {
	conn *xgb.Conn
	root xproto.Window
	atom map[string]xproto.Atom
	// xinerama is true when the server has the XINERAMA extension, which
	// lists the monitors.
	xinerama bool

	sync   *xsync
	alarm  uint32
	input  chan struct{} // nil without an idle alarm
	events chan struct{} // closed when the event reader ends
	noSync error         // why there is no idle alarm
}

// inputQuiet is the quiet before input that fires the idle alarm: input
// after at least this long without any is reported as an event; input
// that continues is read by the once-a-second poll (see Watch).
const inputQuiet = rearm

// OpenX11 connects to display ("" means $DISPLAY).
func OpenX11(display string) (*X11, error) {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("%w: connecting to X display %q: %v", ErrUnsupported, display, err)
	}
	if err := screensaver.Init(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: X server lacks MIT-SCREEN-SAVER: %v", ErrUnsupported, err)
	}
	x := &X11{conn: c, root: xproto.Setup(c).DefaultScreen(c).Root, atom: map[string]xproto.Atom{},
		events: make(chan struct{})}
	// The atoms are created if no window manager has yet: one that
	// starts later uses the same ones.
	for _, name := range ewmhAtoms {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err == nil {
			x.atom[name] = r.Atom
		}
	}
	x.xinerama = xinerama.Init(c) == nil
	x.noSync = x.armIdleAlarm()
	go x.readEvents()
	return x, nil
}

// armIdleAlarm sets the SYNC alarm that reports returning input.
func (x *X11) armIdleAlarm() error {
	s, err := initSync(x.conn)
	if err != nil {
		return err
	}
	counter, err := s.counter("IDLETIME")
	if err != nil {
		return err
	}
	if counter == 0 {
		return errors.New("the X server's SYNC extension has no IDLETIME counter")
	}
	alarm, err := s.createAlarm(counter, inputQuiet.Milliseconds())
	if err != nil {
		return err
	}
	x.sync, x.alarm, x.input = s, alarm, make(chan struct{}, 1)
	return nil
}

// readEvents drains the connection's events until it closes, turning the
// idle alarm's into a value on x.input. (Every client must read its
// events: xgb's queue would fill and stall replies.)
func (x *X11) readEvents() {
	defer close(x.events)
	for {
		ev, xerr := x.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			return // connection closed
		}
		if a, ok := ev.(syncAlarmEvent); ok && a.Alarm == x.alarm && x.input != nil {
			select {
			case x.input <- struct{}{}:
			default: // one pending wake-up is enough
			}
		}
	}
}

// Input delivers a value when keyboard or mouse input arrives after at
// least a quiet second. It is nil when the X server offers no idle alarm;
// InputUnsupported says why.
func (x *X11) Input() <-chan struct{} { return x.input }

// InputUnsupported says why Input is nil (nil when it is not).
func (x *X11) InputUnsupported() error { return x.noSync }

// Idle returns the time since the last keyboard or mouse input.
func (x *X11) Idle() (time.Duration, error) {
	r, err := screensaver.QueryInfo(x.conn, xproto.Drawable(x.root)).Reply()
	if err != nil {
		return 0, fmt.Errorf("X11 screensaver query: %w", err)
	}
	return time.Duration(r.MsSinceUserInput) * time.Millisecond, nil
}

// Close removes the idle alarm and disconnects.
func (x *X11) Close() error {
	if x.sync != nil {
		_ = x.sync.destroyAlarm(x.alarm) // the server frees it with the connection anyway
	}
	x.conn.Close()
	<-x.events
	return nil
}
