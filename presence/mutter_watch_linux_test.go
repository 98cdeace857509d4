package presence

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/sparegpu/spare/internal/testenv"
)

// fakeMutter implements org.gnome.Mutter.IdleMonitor as GNOME does:
// lasting idle watches, one-shot user-active watches, WatchFired.
type fakeMutter struct {
	mu     sync.Mutex
	idleMs uint64
	nextID uint32
	idle   map[uint32]uint64 // id → interval
	active map[uint32]bool
	reads  int
}

func (f *fakeMutter) GetIdletime() (uint64, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.idleMs, nil
}

func (f *fakeMutter) AddIdleWatch(interval uint64) (uint32, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.idle[f.nextID] = interval
	return f.nextID, nil
}

func (f *fakeMutter) AddUserActiveWatch() (uint32, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.active[f.nextID] = true
	return f.nextID, nil
}

func (f *fakeMutter) RemoveWatch(id uint32) *dbus.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.idle, id)
	delete(f.active, id)
	return nil
}

// state returns the idle watch intervals and the number of armed
// user-active watches.
func (f *fakeMutter) state() (intervals []uint64, active int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, iv := range f.idle {
		intervals = append(intervals, iv)
	}
	return intervals, len(f.active)
}

// becomeIdle plays the owner leaving: idle time passes the idle watches'
// intervals and each fires.
func (f *fakeMutter) becomeIdle(t *testing.T, svc *dbus.Conn, ms uint64) {
	f.mu.Lock()
	f.idleMs = ms
	var fire []uint32
	for id, iv := range f.idle {
		if ms >= iv {
			fire = append(fire, id)
		}
	}
	f.mu.Unlock()
	for _, id := range fire {
		must(t, svc.Emit(mutterPath, mutterIface+".WatchFired", id))
	}
}

// touch plays input: idle time resets and the user-active watches fire
// once and are gone.
func (f *fakeMutter) touch(t *testing.T, svc *dbus.Conn) {
	f.mu.Lock()
	f.idleMs = 0
	var fire []uint32
	for id := range f.active {
		fire = append(fire, id)
	}
	clear(f.active)
	f.mu.Unlock()
	for _, id := range fire {
		must(t, svc.Emit(mutterPath, mutterIface+".WatchFired", id))
	}
}

// TestMutterWatches runs Watch on the Mutter backend against a private
// dbus-daemon hosting a GNOME-like idle monitor: the sensor does not poll
// while the owner is away, reports input the moment the user-active watch
// fires, and arms a new one each time the owner leaves again.
func TestMutterWatches(t *testing.T) {
	connect := privateBus(t)
	bus, svc := connect(), connect()
	f := &fakeMutter{idleMs: 5000, idle: map[uint32]uint64{}, active: map[uint32]bool{}}
	must(t, svc.Export(f, mutterPath, mutterIface))
	serve(t, svc, mutterName)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := openIdleDBus(ctx, bus)
	if err != nil {
		t.Fatal(err)
	}
	if d.watch == nil {
		t.Fatal("no watches on an idle monitor that offers them")
	}
	if iv, active := f.state(); len(iv) != 1 || iv[0] != uint64(inputQuiet.Milliseconds()) || active != 1 {
		t.Fatalf("watches after open: idle %v, %d user-active; want [%d], 1", iv, active, inputQuiet.Milliseconds())
	}

	reports, stop := watching(t, Options{sensor: &linuxSensor{idleBus: d}, Heartbeat: time.Hour, Games: Games{Disabled: true},
		Interval: func() time.Duration { return 50 * time.Millisecond },
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil))}, 16)
	<-reports // the first heartbeat
	f.mu.Lock()
	before := f.reads
	f.mu.Unlock()
	time.Sleep(500 * time.Millisecond) // the observed quiet period itself
	f.mu.Lock()
	polled := f.reads - before
	f.mu.Unlock()
	if polled != 0 {
		t.Fatalf("%d idle reads while the owner was away; want none", polled)
	}

	for i := range 2 {
		start := time.Now()
		f.touch(t, svc)
		select {
		case r := <-reports:
			if !r.IdleKnown || r.Idle != 0 || r.Source != "mutter" {
				t.Fatalf("input %d: report %+v", i, r)
			}
			t.Logf("input %d reported %v after WatchFired was sent", i, time.Since(start).Round(time.Millisecond/10))
		case <-time.After(5 * time.Second):
			t.Fatalf("input %d: no report", i)
		}
		if _, active := f.state(); active != 0 {
			t.Fatalf("a user-active watch is armed while the owner is here")
		}
		f.becomeIdle(t, svc, 1500)
		testenv.WaitFor(t, "a new user-active watch once the owner left", 5*time.Second, func() bool { _, a := f.state(); return a == 1 })
	}
	stop()
	if iv, active := f.state(); len(iv) != 0 || active != 0 {
		t.Fatalf("watches left after Watch ended: idle %v, %d user-active", iv, active)
	}
}
