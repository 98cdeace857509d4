//go:build linux && cgo

package main

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/theme"

	"github.com/sparegpu/spare/internal/testenv"
)

// wineApp is spare.exe running under Wine on a test's own display.
type wineApp struct {
	t       *testing.T
	display string
	done    chan error
	// last is the last screenshot compared with a golden (shot names
	// it); a failure leaves it in testdata/failed/.
	last *image.RGBA
	shot string
	pid  int // the Linux process Wine runs spare.exe in
}

// runWineApp starts exe (with args) under Wine with env on display; the
// test's end ends it. diag says more about a failure (the stand-ins'
// records).
func runWineApp(t *testing.T, env []string, display string, diag func() string, exe string, args ...string) *wineApp {
	t.Helper()
	// Output to a file, not a pipe: Wine's helper processes inherit it
	// and would hold a pipe open after spare.exe ends.
	out, err := os.Create(filepath.Join(t.TempDir(), "spare.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(wineBin(t, "wine64"), append([]string{exe}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &wineApp{t: t, display: display, done: make(chan error, 1), pid: cmd.Process.Pid}
	go func() { w.done <- cmd.Wait() }() // owned here: ends with the process
	t.Cleanup(func() {
		select {
		case err := <-w.done:
			w.done <- err
		default:
			_ = cmd.Process.Kill() // our own child, by its PID
			w.done <- <-w.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("spare.exe under Wine said:\n%s\n%s", b, diag())
			if w.last != nil {
				writeFailed(t, w.shot, w.last)
			}
		}
		out.Close()
	})
	return w
}

// alive is an error once spare.exe has exited.
func (w *wineApp) alive() error {
	select {
	case err := <-w.done:
		w.done <- err
		return fmt.Errorf("spare.exe exited: %v", err)
	default:
		return nil
	}
}

// wait waits up to d for spare.exe to exit and returns how it exited.
func (w *wineApp) wait(d time.Duration) error {
	select {
	case err := <-w.done:
		w.done <- err
		return err
	case <-time.After(d):
		return fmt.Errorf("spare.exe still runs %v on", d)
	}
}

// waitWindow waits until a window titled title is shown.
func (w *wineApp) waitWindow(what, title string) {
	w.t.Helper()
	testenv.WaitFor(w.t, what, 3*time.Minute, func() error {
		if err := w.alive(); err != nil {
			return err
		}
		_, err := windowShot(w.display, title)
		return err
	})
}

// waitShot waits until the window titled title matches the golden
// testdata/name, and returns that screenshot.
func (w *wineApp) waitShot(what, name, title string) *image.RGBA {
	w.t.Helper()
	want, err := readPNG(filepath.Join("testdata", name))
	if err != nil {
		w.t.Fatalf("golden: %v", err)
	}
	w.shot = name
	testenv.WaitFor(w.t, what+" (matching testdata/"+name+"; a failure leaves the last screenshot in testdata/failed/)", 3*time.Minute, func() error {
		if err := w.alive(); err != nil {
			return err
		}
		s, err := windowShot(w.display, title)
		if err != nil {
			return err
		}
		w.last = s
		return goldenDiff(s, want)
	})
	return w.last
}

// primaryButton finds the button drawn in the theme's primary colour in
// a screenshot (the one HighImportance button on a screen) and returns
// its middle: the tallest band of rows with at least 40 such pixels and
// at least 12 rows high (the selected tab's underline is a few rows).
func primaryButton(img *image.RGBA) (image.Point, error) {
	primary := color.NRGBAModel.Convert(theme.DefaultTheme().Color(theme.ColorNamePrimary, theme.VariantLight)).(color.NRGBA)
	near := func(c color.RGBA) bool {
		d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
		return d(c.R, primary.R) < 24 && d(c.G, primary.G) < 24 && d(c.B, primary.B) < 24
	}
	b := img.Bounds()
	type band struct{ y0, y1, xs, n int }
	var best, cur band
	for y := b.Min.Y; y < b.Max.Y; y++ {
		xs, n := 0, 0
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img.RGBAAt(x, y)) {
				xs, n = xs+x, n+1
			}
		}
		if n < 40 {
			if cur.y1-cur.y0 > best.y1-best.y0 {
				best = cur
			}
			cur = band{}
			continue
		}
		if cur.n == 0 {
			cur.y0 = y
		}
		cur.y1, cur.xs, cur.n = y+1, cur.xs+xs, cur.n+n
	}
	if cur.y1-cur.y0 > best.y1-best.y0 {
		best = cur
	}
	if best.y1-best.y0 < 12 {
		return image.Point{}, fmt.Errorf("no button in the primary colour %v on the screen", primary)
	}
	return image.Pt(best.xs/best.n, (best.y0+best.y1)/2), nil
}
