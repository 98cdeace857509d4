package screentext

import (
	"image"
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// screen draws a window-like image with Fyne's software painter: a
// small title, the sentence's lines at the status sentence's size and
// weight, and a line of body text, on a background of the given colour.
func screen(t *testing.T, bg, fg color.Color, lines ...string) image.Image {
	t.Helper()
	objs := []fyne.CanvasObject{canvas.NewText("Spare", fg)}
	for _, l := range lines {
		objs = append(objs, sentenceText(l, fg))
	}
	body := canvas.NewText("Earned today: 0.250000 USDC", fg)
	body.TextSize = theme.DefaultTheme().Size(theme.SizeNameText)
	objs = append(objs, body)
	w := test.NewTempWindow(t, container.NewStack(canvas.NewRectangle(bg),
		container.NewPadded(container.NewVBox(objs...))))
	w.SetPadded(false)
	w.Resize(w.Content().MinSize().Add(fyne.NewSize(40, 30)))
	return w.Canvas().Capture()
}

func TestFindSentence(t *testing.T) {
	test.NewTempApp(t)
	const s = "Waiting: you were active 40 s ago — starting in 2 min 58 s"
	backgrounds := []struct {
		name   string
		bg, fg color.Color
	}{
		{"light", color.White, color.Black},
		{"dark", color.NRGBA{0x17, 0x17, 0x17, 0xff}, color.NRGBA{0xf0, 0xf0, 0xf0, 0xff}},
	}
	cases := []struct {
		name  string
		shown []string // the sentence's lines on the screen
		look  string
		found bool
	}{
		{"the same sentence", []string{s}, s, true},
		{"a different sentence", []string{s}, "Paused until you resume", false},
		{"a countdown a second off", []string{s}, "Waiting: you were active 40 s ago — starting in 3 min 57 s", false},
		{"wrapped on two lines", []string{"Waiting: you were active 40 s ago —", "starting in 2 min 58 s"}, s, true},
		{"two lines in the wrong order", []string{"starting in 2 min 58 s", "Waiting: you were active 40 s ago —"}, s, false},
		{"only the sentence's first words", []string{"Waiting: you were active 40 s ago"}, s, false},
	}
	for _, b := range backgrounds {
		for _, c := range cases {
			t.Run(b.name+"/"+c.name, func(t *testing.T) {
				ok, f := FindSentence(t, screen(t, b.bg, b.fg, c.shown...), c.look)
				if ok != c.found {
					t.Errorf("found %v (%.2f%% of the pixels differ), want %v", ok, 100*f, c.found)
				}
				if ok && f > Tolerance {
					t.Errorf("found with %.2f%% of the pixels differing; the tolerance is %.2f%%", 100*f, 100*Tolerance)
				}
				t.Logf("found %v, %.2f%% of the pixels differ", ok, 100*f)
			})
		}
	}
}

func TestSentenceMatcher(t *testing.T) {
	test.NewTempApp(t)
	const s = "Paused until you resume"
	shown := SentenceMatcher(t, s)
	if !shown(screen(t, color.White, color.Black, s)) {
		t.Errorf("%q not found where it is shown", s)
	}
	if shown(screen(t, color.White, color.Black, "Not connected to the Spare daemon")) {
		t.Errorf("%q found where another sentence is shown", s)
	}
}

// square is a w×w mask of ink with 3×3 holes whose centres are at the
// given points: a 3×3 hole differs by its centre pixel only, as its edge
// is one pixel from ink (anti-aliasing).
func square(w int, holes ...image.Point) mask {
	m := mask{w: w, h: w, ink: make([]bool, w*w)}
	for i := range m.ink {
		m.ink[i] = true
	}
	for _, p := range holes {
		for y := p.Y - 1; y <= p.Y+1; y++ {
			for x := p.X - 1; x <= p.X+1; x++ {
				m.ink[y*w+x] = false
			}
		}
	}
	return m
}

// onScreen places m on a blank mask at (ox, oy).
func onScreen(m mask, w, h, ox, oy int) mask {
	s := mask{w: w, h: h, ink: make([]bool, w*h)}
	for y := range m.h {
		for x := range m.w {
			s.ink[(oy+y)*w+ox+x] = m.at(x, y)
		}
	}
	return s
}

func TestFindTolerance(t *testing.T) {
	const tol = 0.01 // of the 400 pixels of a 20×20 square: 4
	holes := func(n int) []image.Point {
		var ps []image.Point
		for i := range n {
			ps = append(ps, image.Pt(3+3*i, 3+3*i))
		}
		return ps
	}
	lone := square(20)
	for _, p := range holes(5) {
		lone.ink[p.Y*20+p.X] = false
	}
	cases := []struct {
		name  string
		scr   mask
		found bool
		frac  float64
	}{
		{"the same ink", square(20), true, 0},
		{"lone pixels missing are anti-aliasing", lone, true, 0},
		{"as many differences as tolerated", square(20, holes(4)...), true, 4.0 / 400},
		{"one difference too many", square(20, holes(5)...), false, 5.0 / 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, f, ok := find(onScreen(c.scr, 50, 40, 12, 7), square(20), tol)
			if ok != c.found || f != c.frac {
				t.Errorf("found %v with %v differing, want %v with %v", ok, f, c.found, c.frac)
			}
			if ok && p != image.Pt(12, 7) {
				t.Errorf("found at %v, want (12,7)", p)
			}
		})
	}
	if _, f, ok := find(onScreen(square(20), 50, 40, 12, 7), mask{w: 3, h: 3, ink: make([]bool, 9)}, tol); ok || f != 1 {
		t.Errorf("a template without ink: found %v, %v", ok, f)
	}
}

func TestFindNote(t *testing.T) {
	test.NewTempApp(t)
	const note = "Spare cannot see your keyboard and mouse in this session"
	for _, b := range []struct {
		name string
		bg   color.Color
		v    fyne.ThemeVariant
	}{
		{"light", color.White, theme.VariantLight},
		{"dark", color.NRGBA{0x17, 0x17, 0x17, 0xff}, theme.VariantDark},
	} {
		t.Run(b.name, func(t *testing.T) {
			warn := theme.DefaultTheme().Color(theme.ColorNameWarning, b.v)
			w := test.NewTempWindow(t, container.NewStack(canvas.NewRectangle(b.bg), container.NewPadded(container.NewVBox(
				sentenceText("Not connected to the Spare daemon", warn), noteText(note+" (no X server), so it cannot tell", warn)))))
			w.SetPadded(false)
			w.Resize(w.Content().MinSize().Add(fyne.NewSize(40, 30)))
			scr := w.Canvas().Capture()
			if ok, f := FindNote(t, scr, note); !ok {
				t.Errorf("the note is not found (%.2f%% of the pixels differ)", 100*f)
			}
			for _, other := range []string{"Spare cannot see your screen or mouse in this session", note + "s", "Not connected to the Spare daemon"} {
				if ok, f := FindNote(t, scr, other); ok {
					t.Errorf("%q is found (%.2f%% of the pixels differ) where it is not a note", other, 100*f)
				}
			}
		})
	}
}
