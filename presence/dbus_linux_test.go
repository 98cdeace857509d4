package presence

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/sparegpu/spare/internal/testenv"
)

// privateBus starts a dbus-daemon of its own for the test and returns a
// function that opens connections to it; all stop at the end of the test.
func privateBus(t *testing.T) func() *dbus.Conn {
	t.Helper()
	addr := testenv.SessionBus(t)
	connect := func() *dbus.Conn {
		c, err := dbus.Connect(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return connect
}

// fakeDesktop implements the idle and logind interfaces Spare reads.
type fakeDesktop struct{ idleMs uint64 }

func (f *fakeDesktop) GetIdletime() (uint64, *dbus.Error)        { return f.idleMs, nil }
func (f *fakeDesktop) GetSessionIdleTime() (uint32, *dbus.Error) { return uint32(f.idleMs / 1000), nil }
func (f *fakeDesktop) GetActive() (bool, *dbus.Error)            { return f.idleMs > 600000, nil }

type fakeProps struct{ locked bool }

func (p *fakeProps) Get(iface, name string) (dbus.Variant, *dbus.Error) {
	switch name {
	case "IdleHint":
		return dbus.MakeVariant(false), nil
	case "LockedHint":
		return dbus.MakeVariant(p.locked), nil
	}
	return dbus.Variant{}, dbus.MakeFailedError(os.ErrNotExist)
}

func serve(t *testing.T, c *dbus.Conn, name string) {
	t.Helper()
	r, err := c.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v %v", name, r, err)
	}
}

func TestDBusBackends(t *testing.T) {
	connect := privateBus(t)
	bus, svc := connect(), connect() // Spare's side and the fake desktop's
	desk := &fakeDesktop{idleMs: 42000}
	ctx := context.Background()

	t.Run("screensaver", func(t *testing.T) {
		must(t, svc.Export(desk, saverPath, saverIface))
		serve(t, svc, saverName)
		d, err := openIdleDBus(ctx, bus)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok, err := d.idle(ctx); err != nil || !ok || got != 42*time.Second || d.name() != "screensaver" {
			t.Fatalf("idle = %v %v %v via %s", got, ok, err, d.name())
		}
		if on, err := screenSaverActive(ctx, bus); err != nil || on {
			t.Fatalf("GetActive = %v, %v", on, err)
		}
	})
	t.Run("mutter preferred", func(t *testing.T) {
		must(t, svc.Export(desk, mutterPath, mutterIface))
		serve(t, svc, mutterName)
		d, err := openIdleDBus(ctx, bus)
		if err != nil {
			t.Fatal(err)
		}
		if got, _, err := d.idle(ctx); err != nil || got != 42*time.Second || d.name() != "mutter" {
			t.Fatalf("idle = %v %v via %s", got, err, d.name())
		}
	})
	t.Run("logind hints and PrepareForSleep", func(t *testing.T) {
		props := &fakeProps{locked: true}
		must(t, svc.Export(props, "/org/freedesktop/login1/session/_31", "org.freedesktop.DBus.Properties"))
		serve(t, svc, logindName)
		l, err := openLogind(ctx, bus, "/org/freedesktop/login1/session/_31")
		if err != nil {
			t.Fatal(err)
		}
		defer l.close()
		h, err := l.hints(ctx)
		if err != nil || !h.locked || h.idle {
			t.Fatalf("hints = %+v, %v", h, err)
		}
		must(t, svc.Emit(logindPath, logindMgr+"."+sleepSignal, true))
		deadline := time.Now().Add(5 * time.Second)
		for !l.sleeping.Load() {
			if time.Now().After(deadline) {
				t.Fatal("PrepareForSleep(true) not seen")
			}
			time.Sleep(5 * time.Millisecond) // poll interval
		}
		must(t, svc.Emit(logindPath, logindMgr+"."+sleepSignal, false))
		for l.sleeping.Load() {
			if time.Now().After(deadline) {
				t.Fatal("PrepareForSleep(false) not seen")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	t.Run("nothing on the bus", func(t *testing.T) {
		other := privateBus(t)()
		if _, err := openIdleDBus(ctx, other); err == nil {
			t.Fatal("want ErrUnsupported on an empty bus")
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
