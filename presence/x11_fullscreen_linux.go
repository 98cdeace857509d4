package presence

import (
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xinerama"
	"github.com/jezek/xgb/xproto"
)

// ewmhAtoms are the window manager hints Fullscreen reads.
var ewmhAtoms = []string{"_NET_ACTIVE_WINDOW", "_NET_WM_STATE", "_NET_WM_STATE_FULLSCREEN",
	"_NET_WM_STATE_MAXIMIZED_VERT", "_NET_WM_STATE_MAXIMIZED_HORZ", "_NET_WM_NAME", "_NET_WM_PID", "UTF8_STRING"}

// Fullscreen returns the title and PID of the active window when it is
// fullscreen: marked _NET_WM_STATE_FULLSCREEN by the window manager, or
// covering a whole monitor without being maximised (the "borderless
// window" many games use). It returns "" when the active window is not
// fullscreen, or when no window manager names an active window.
func (x *X11) Fullscreen() (string, uint32, error) {
	p, err := xproto.GetProperty(x.conn, false, x.root, x.atom["_NET_ACTIVE_WINDOW"], xproto.AtomWindow, 0, 1).Reply()
	if err != nil {
		return "", 0, fmt.Errorf("X11 active window: %w", err)
	}
	if len(p.Value) < 4 {
		return "", 0, nil
	}
	w := xproto.Window(xgb.Get32(p.Value))
	if w == 0 {
		return "", 0, nil
	}
	st, err := xproto.GetProperty(x.conn, false, w, x.atom["_NET_WM_STATE"], xproto.AtomAtom, 0, 32).Reply()
	if err != nil {
		return "", 0, nil // the window went away
	}
	state := map[xproto.Atom]bool{}
	for i := 0; i+4 <= len(st.Value); i += 4 {
		state[xproto.Atom(xgb.Get32(st.Value[i:]))] = true
	}
	full := state[x.atom["_NET_WM_STATE_FULLSCREEN"]]
	if !full && !(state[x.atom["_NET_WM_STATE_MAXIMIZED_VERT"]] && state[x.atom["_NET_WM_STATE_MAXIMIZED_HORZ"]]) {
		if full, err = x.coversMonitor(w); err != nil {
			return "", 0, nil // the window went away
		}
	}
	if !full {
		return "", 0, nil
	}
	name := "a fullscreen window"
	if n, err := xproto.GetProperty(x.conn, false, w, x.atom["_NET_WM_NAME"], x.atom["UTF8_STRING"], 0, 64).Reply(); err == nil && len(n.Value) > 0 {
		name = string(n.Value)
	} else if n, err := xproto.GetProperty(x.conn, false, w, xproto.AtomWmName, xproto.AtomString, 0, 64).Reply(); err == nil && len(n.Value) > 0 {
		name = string(n.Value)
	}
	var pid uint32
	if pp, err := xproto.GetProperty(x.conn, false, w, x.atom["_NET_WM_PID"], xproto.AtomCardinal, 0, 1).Reply(); err == nil && len(pp.Value) >= 4 {
		pid = xgb.Get32(pp.Value)
	}
	return name, pid, nil
}

// rect is an area of the root window.
type rect struct{ x, y, w, h int }

func (r rect) covers(o rect) bool {
	return r.x <= o.x && r.y <= o.y && r.x+r.w >= o.x+o.w && r.y+r.h >= o.y+o.h
}

// coversMonitor reports whether window w covers a whole monitor (the
// screen when XINERAMA does not list monitors).
func (x *X11) coversMonitor(w xproto.Window) (bool, error) {
	g, err := xproto.GetGeometry(x.conn, xproto.Drawable(w)).Reply()
	if err != nil {
		return false, err
	}
	at, err := xproto.TranslateCoordinates(x.conn, w, x.root, 0, 0).Reply()
	if err != nil {
		return false, err
	}
	win := rect{int(at.DstX), int(at.DstY), int(g.Width), int(g.Height)}
	for _, m := range x.monitors() {
		if win.covers(m) {
			return true, nil
		}
	}
	return false, nil
}

func (x *X11) monitors() []rect {
	if x.xinerama {
		if a, err := xinerama.IsActive(x.conn).Reply(); err == nil && a.State != 0 {
			if s, err := xinerama.QueryScreens(x.conn).Reply(); err == nil && len(s.ScreenInfo) > 0 {
				out := make([]rect, 0, len(s.ScreenInfo))
				for _, m := range s.ScreenInfo {
					out = append(out, rect{int(m.XOrg), int(m.YOrg), int(m.Width), int(m.Height)})
				}
				return out
			}
		}
	}
	scr := xproto.Setup(x.conn).DefaultScreen(x.conn)
	return []rect{{0, 0, int(scr.WidthInPixels), int(scr.HeightInPixels)}}
}
