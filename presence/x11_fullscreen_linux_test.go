package presence

import (
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/sparegpu/spare/internal/testenv"
)

// wm plays the window manager and the game: it makes a window and sets
// the properties a window manager sets.
type wm struct {
	t    *testing.T
	c    *xgb.Conn
	root xproto.Window
}

func (m *wm) atom(name string) xproto.Atom {
	r, err := xproto.InternAtom(m.c, false, uint16(len(name)), name).Reply()
	if err != nil {
		m.t.Fatal(err)
	}
	return r.Atom
}

func (m *wm) set(w xproto.Window, prop string, typ xproto.Atom, vals ...uint32) {
	buf := make([]byte, 4*len(vals))
	for i, v := range vals {
		xgb.Put32(buf[4*i:], v)
	}
	if err := xproto.ChangePropertyChecked(m.c, xproto.PropModeReplace, w, m.atom(prop), typ, 32, uint32(len(vals)), buf).Check(); err != nil {
		m.t.Fatalf("setting %s: %v", prop, err)
	}
}

func (m *wm) resize(w xproto.Window, x, y, width, height uint32) {
	err := xproto.ConfigureWindowChecked(m.c, w, xproto.ConfigWindowX|xproto.ConfigWindowY|xproto.ConfigWindowWidth|xproto.ConfigWindowHeight,
		[]uint32{x, y, width, height}).Check()
	if err != nil {
		m.t.Fatal(err)
	}
}

// TestX11Fullscreen checks fullscreen detection against a real X server:
// a window the window manager marks fullscreen, one that covers the whole
// screen without the mark (borderless), and the cases that are not
// fullscreen (a smaller window, a maximised one, no active window). Watch
// turns the fullscreen window into the report's Game and its PID.
func TestX11Fullscreen(t *testing.T) {
	display := testenv.PrivateDisplay(t)
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := &wm{t: t, c: c, root: xproto.Setup(c).DefaultScreen(c).Root}
	id, err := xproto.NewWindowId(c)
	if err != nil {
		t.Fatal(err)
	}
	scr := xproto.Setup(c).DefaultScreen(c)
	if err := xproto.CreateWindowChecked(c, scr.RootDepth, id, m.root, 100, 100, 640, 400, 0,
		xproto.WindowClassInputOutput, scr.RootVisual, 0, nil).Check(); err != nil {
		t.Fatal(err)
	}
	title := "Half-Life 3"
	if err := xproto.ChangePropertyChecked(c, xproto.PropModeReplace, id, m.atom("_NET_WM_NAME"), m.atom("UTF8_STRING"), 8,
		uint32(len(title)), []byte(title)).Check(); err != nil {
		t.Fatal(err)
	}
	m.set(id, "_NET_WM_PID", xproto.AtomCardinal, 4242)
	if err := xproto.MapWindowChecked(c, id).Check(); err != nil {
		t.Fatal(err)
	}

	x, err := OpenX11(display)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	check := func(what, wantName string) {
		t.Helper()
		name, pid, err := x.Fullscreen()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		wantPID := uint32(0)
		if wantName != "" {
			wantPID = 4242
		}
		if name != wantName || pid != wantPID {
			t.Fatalf("%s: Fullscreen = %q, pid %d; want %q, pid %d", what, name, pid, wantName, wantPID)
		}
	}

	check("no active window", "")
	m.set(m.root, "_NET_ACTIVE_WINDOW", xproto.AtomWindow, uint32(id))
	check("a 640x400 active window", "")
	m.set(id, "_NET_WM_STATE", xproto.AtomAtom, uint32(m.atom("_NET_WM_STATE_FULLSCREEN")))
	check("an active window marked fullscreen", title)
	m.set(id, "_NET_WM_STATE", xproto.AtomAtom)
	m.resize(id, 0, 0, 1280, 800)
	check("an active window covering the screen, unmarked", title)
	m.set(id, "_NET_WM_STATE", xproto.AtomAtom, uint32(m.atom("_NET_WM_STATE_MAXIMIZED_VERT")), uint32(m.atom("_NET_WM_STATE_MAXIMIZED_HORZ")))
	check("a maximised window covering the screen", "")
	m.resize(id, 0, 0, 1280, 700)
	m.set(id, "_NET_WM_STATE", xproto.AtomAtom, uint32(m.atom("_NET_WM_STATE_FULLSCREEN")))

	// Through Watch: the fullscreen window is the report's game.
	reports, _ := watching(t, Options{Display: display, Heartbeat: 50 * time.Millisecond, Games: Games{Disabled: true}}, 64)
	next := func() Report {
		t.Helper()
		select {
		case r := <-reports:
			return r
		case <-time.After(30 * time.Second):
			t.Fatal("no report within 30 s")
		}
		return Report{}
	}
	if r := next(); r.Game != title || len(r.GamePIDs) != 1 || r.GamePIDs[0] != 4242 {
		t.Fatalf("report with a fullscreen window: game %q, pids %v", r.Game, r.GamePIDs)
	}
	if err := xproto.DeletePropertyChecked(c, m.root, m.atom("_NET_ACTIVE_WINDOW")).Check(); err != nil {
		t.Fatal(err)
	}
	check("the active window property removed", "")
	deadline := time.Now().Add(5 * time.Second)
	for r := next(); r.Game != ""; r = next() {
		if time.Now().After(deadline) {
			t.Fatalf("the report still names game %q after the window left", r.Game)
		}
	}
}
