package presence

import (
	"errors"
	"fmt"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// The X SYNC extension's IDLETIME system counter holds the milliseconds
// since the last input. An alarm on it with a NegativeTransition test
// sends an AlarmNotify event the moment input arrives after the counter
// was above the test value, so the sensor can wait for returning input
// instead of polling for it. xgb has no SYNC binding; the few requests and
// the one event needed are encoded here (X Synchronization Extension
// Protocol, version 3.1).

const (
	syncName = "SYNC"

	syncInitialize         = 0
	syncListSystemCounters = 1
	syncCreateAlarm        = 8
	syncDestroyAlarm       = 11

	syncAlarmNotify = 1 // event number relative to the extension's first event

	// CreateAlarm value-mask bits.
	syncCACounter   = 1 << 0
	syncCAValueType = 1 << 1
	syncCAValue     = 1 << 2
	syncCATestType  = 1 << 3
	syncCADelta     = 1 << 4
	syncCAEvents    = 1 << 5

	syncValueAbsolute      = 0
	syncNegativeTransition = 1
)

// syncAlarmEvent is the AlarmNotify event. Only the alarm is read.
type syncAlarmEvent struct {
	raw   []byte
	Alarm uint32
}

func (e syncAlarmEvent) Bytes() []byte  { return e.raw }
func (e syncAlarmEvent) String() string { return fmt.Sprintf("SyncAlarmNotify{alarm %d}", e.Alarm) }

// syncError is one of SYNC's own errors (Counter, Alarm). Without a
// constructor xgb would drop it and a checked request would wait forever.
type syncError struct {
	name string
	seq  uint16
	bad  uint32
}

func (e syncError) SequenceId() uint16 { return e.seq }
func (e syncError) BadId() uint32      { return e.bad }
func (e syncError) Error() string {
	return fmt.Sprintf("SYNC %s error (sequence %d, bad id %d)", e.name, e.seq, e.bad)
}

// registerMu serialises writes to xgb's global event and error tables,
// which the extension packages fill the same way.
var registerMu sync.Mutex

// xsync is the SYNC extension on one connection.
type xsync struct {
	conn   *xgb.Conn
	opcode byte
}

// initSync finds the SYNC extension, negotiates version 3.1 and registers
// its AlarmNotify event and errors with xgb.
func initSync(c *xgb.Conn) (*xsync, error) {
	r, err := xproto.QueryExtension(c, uint16(len(syncName)), syncName).Reply()
	if err != nil {
		return nil, fmt.Errorf("querying the SYNC extension: %w", err)
	}
	if !r.Present {
		return nil, errors.New("the X server has no SYNC extension")
	}
	registerMu.Lock()
	xgb.NewEventFuncs[int(r.FirstEvent)+syncAlarmNotify] = func(buf []byte) xgb.Event {
		return syncAlarmEvent{raw: buf, Alarm: xgb.Get32(buf[4:])}
	}
	for i, name := range []string{"Counter", "Alarm"} {
		xgb.NewErrorFuncs[int(r.FirstError)+i] = func(buf []byte) xgb.Error {
			return syncError{name: name, seq: xgb.Get16(buf[2:]), bad: xgb.Get32(buf[4:])}
		}
	}
	registerMu.Unlock()
	s := &xsync{conn: c, opcode: r.MajorOpcode}

	// Initialize: desired major and minor version. The reply carries the
	// server's; any 3.x has alarms and system counters.
	buf := s.request(syncInitialize, 8)
	buf[4], buf[5] = 3, 1
	reply, err := s.roundTrip(buf)
	if err != nil {
		return nil, fmt.Errorf("SYNC Initialize: %w", err)
	}
	if len(reply) < 10 || reply[8] != 3 {
		return nil, fmt.Errorf("SYNC version %d.%d, want 3.x", reply[8], reply[9])
	}
	return s, nil
}

// request returns a zeroed request of size bytes (a multiple of 4) with
// its header filled in.
func (s *xsync) request(minor byte, size int) []byte {
	buf := make([]byte, size)
	buf[0], buf[1] = s.opcode, minor
	xgb.Put16(buf[2:], uint16(size/4))
	return buf
}

func (s *xsync) roundTrip(buf []byte) ([]byte, error) {
	cookie := s.conn.NewCookie(true, true)
	s.conn.NewRequest(buf, cookie)
	return cookie.Reply()
}

func (s *xsync) check(buf []byte) error {
	cookie := s.conn.NewCookie(true, false)
	s.conn.NewRequest(buf, cookie)
	return cookie.Check()
}

// counter returns the system counter called name (0 when there is none).
func (s *xsync) counter(name string) (uint32, error) {
	reply, err := s.roundTrip(s.request(syncListSystemCounters, 4))
	if err != nil {
		return 0, fmt.Errorf("SYNC ListSystemCounters: %w", err)
	}
	if len(reply) < 32 {
		return 0, fmt.Errorf("SYNC ListSystemCounters: short reply (%d bytes)", len(reply))
	}
	n := int(xgb.Get32(reply[8:]))
	b := reply[32:]
	for range n {
		// SYSTEMCOUNTER: counter, resolution (INT64), name length, name,
		// padded to 4 bytes.
		if len(b) < 14 {
			break
		}
		id, l := xgb.Get32(b), int(xgb.Get16(b[12:]))
		if len(b) < 14+l {
			break
		}
		if string(b[14:14+l]) == name {
			return id, nil
		}
		size := (14 + l + 3) &^ 3
		if len(b) < size {
			break
		}
		b = b[size:]
	}
	return 0, nil
}

// createAlarm makes an alarm on counter that sends AlarmNotify each time
// the counter falls from above value to value or below. Delta zero keeps
// a transition alarm armed after it fires.
func (s *xsync) createAlarm(counter uint32, value int64) (uint32, error) {
	id, err := s.conn.NewId()
	if err != nil {
		return 0, fmt.Errorf("allocating an alarm id: %w", err)
	}
	buf := s.request(syncCreateAlarm, 12+4+4+8+4+8+4)
	xgb.Put32(buf[4:], id)
	xgb.Put32(buf[8:], syncCACounter|syncCAValueType|syncCAValue|syncCATestType|syncCADelta|syncCAEvents)
	b := 12
	xgb.Put32(buf[b:], counter)
	xgb.Put32(buf[b+4:], syncValueAbsolute)
	putInt64(buf[b+8:], value)
	xgb.Put32(buf[b+16:], syncNegativeTransition)
	putInt64(buf[b+20:], 0)
	xgb.Put32(buf[b+28:], 1) // events
	if err := s.check(buf); err != nil {
		return 0, fmt.Errorf("SYNC CreateAlarm: %w", err)
	}
	return id, nil
}

func (s *xsync) destroyAlarm(id uint32) error {
	buf := s.request(syncDestroyAlarm, 8)
	xgb.Put32(buf[4:], id)
	return s.check(buf)
}

// putInt64 writes an X INT64: the high 32 bits, then the low 32 bits.
func putInt64(b []byte, v int64) {
	xgb.Put32(b, uint32(uint64(v)>>32))
	xgb.Put32(b[4:], uint32(v))
}
