//go:build linux && cgo

package main

import (
	"fmt"
	"image"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// Reading the real app's window off the X display: a screenshot of it,
// in which internal/screentext finds a sentence, its close button, and
// a click on it.

// windowShot captures the top-level window titled title on the X
// display: the pixels the app drew, as Xvfb holds them.
func windowShot(display, title string) (*image.RGBA, error) {
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("connecting to X display %s: %w", display, err)
	}
	defer x.Close()
	root := xproto.Setup(x).DefaultScreen(x).Root
	tree, err := xproto.QueryTree(x, root).Reply()
	if err != nil {
		return nil, fmt.Errorf("listing windows: %w", err)
	}
	for _, w := range tree.Children {
		attr, err := xproto.GetWindowAttributes(x, w).Reply()
		if err != nil || attr.MapState != xproto.MapStateViewable {
			continue
		}
		name, err := xproto.GetProperty(x, false, w, xproto.AtomWmName, xproto.AtomAny, 0, 256).Reply()
		if err != nil || string(name.Value) != title {
			continue
		}
		g, err := xproto.GetGeometry(x, xproto.Drawable(w)).Reply()
		if err != nil {
			return nil, fmt.Errorf("window geometry: %w", err)
		}
		reply, err := xproto.GetImage(x, xproto.ImageFormatZPixmap, xproto.Drawable(w), 0, 0, g.Width, g.Height, 0xffffffff).Reply()
		if err != nil {
			return nil, fmt.Errorf("GetImage of the window: %w", err)
		}
		n := int(g.Width) * int(g.Height)
		if len(reply.Data) < n*4 {
			return nil, fmt.Errorf("GetImage returned %d bytes for %dx%d at depth %d; want 32 bits per pixel", len(reply.Data), g.Width, g.Height, reply.Depth)
		}
		img := image.NewRGBA(image.Rect(0, 0, int(g.Width), int(g.Height)))
		for i := range n { // BGRX
			img.Pix[i*4], img.Pix[i*4+1], img.Pix[i*4+2], img.Pix[i*4+3] = reply.Data[i*4+2], reply.Data[i*4+1], reply.Data[i*4], 0xff
		}
		return img, nil
	}
	return nil, fmt.Errorf("no window titled %q is shown on %s", title, display)
}

// closeWindow asks the top-level window titled title to close, as a
// window manager's close button does: a WM_DELETE_WINDOW client message.
func closeWindow(display, title string) error {
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		return fmt.Errorf("connecting to X display %s: %w", display, err)
	}
	defer x.Close()
	atom := func(name string) (xproto.Atom, error) {
		r, err := xproto.InternAtom(x, true, uint16(len(name)), name).Reply()
		if err != nil {
			return 0, fmt.Errorf("atom %s: %w", name, err)
		}
		return r.Atom, nil
	}
	protocols, err := atom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := atom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	root := xproto.Setup(x).DefaultScreen(x).Root
	tree, err := xproto.QueryTree(x, root).Reply()
	if err != nil {
		return fmt.Errorf("listing windows: %w", err)
	}
	for _, w := range tree.Children {
		name, err := xproto.GetProperty(x, false, w, xproto.AtomWmName, xproto.AtomAny, 0, 256).Reply()
		if err != nil || string(name.Value) != title {
			continue
		}
		ev := xproto.ClientMessageEvent{Format: 32, Window: w, Type: protocols,
			Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(del), xproto.TimeCurrentTime, 0, 0, 0})}
		return xproto.SendEventChecked(x, false, w, xproto.EventMaskNoEvent, string(ev.Bytes())).Check()
	}
	return fmt.Errorf("no window titled %q on %s", title, display)
}

// clickWindow clicks the left mouse button at (x, y) in the window
// titled title, as a person's mouse does: XTEST's input, which the X
// server delivers as real pointer events (Wine takes no synthetic ones).
func clickWindow(display, title string, x, y int) error {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return fmt.Errorf("connecting to X display %s: %w", display, err)
	}
	defer c.Close()
	if err := xtest.Init(c); err != nil {
		return fmt.Errorf("the X server has no XTEST: %w", err)
	}
	root := xproto.Setup(c).DefaultScreen(c).Root
	tree, err := xproto.QueryTree(c, root).Reply()
	if err != nil {
		return fmt.Errorf("listing windows: %w", err)
	}
	for _, w := range tree.Children {
		attr, err := xproto.GetWindowAttributes(c, w).Reply()
		if err != nil || attr.MapState != xproto.MapStateViewable {
			continue
		}
		name, err := xproto.GetProperty(c, false, w, xproto.AtomWmName, xproto.AtomAny, 0, 256).Reply()
		if err != nil || string(name.Value) != title {
			continue
		}
		at, err := xproto.TranslateCoordinates(c, w, root, int16(x), int16(y)).Reply()
		if err != nil {
			return fmt.Errorf("the window's place on the screen: %w", err)
		}
		for _, ev := range []struct{ kind, detail byte }{
			{xproto.MotionNotify, 0}, {xproto.ButtonPress, 1}, {xproto.ButtonRelease, 1},
		} {
			if err := xtest.FakeInputChecked(c, ev.kind, ev.detail, 0, root, at.DstX, at.DstY, 0).Check(); err != nil {
				return fmt.Errorf("XTEST input: %w", err)
			}
		}
		return nil
	}
	return fmt.Errorf("no window titled %q is shown on %s", title, display)
}
