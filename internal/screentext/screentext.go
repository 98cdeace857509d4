// Package screentext finds a sentence in a screenshot of the desktop
// app, for cmd/spare's tests of the real app under Xvfb. It is test
// support: only tests import it.
//
// The app draws through OpenGL (Mesa's software GL under Xvfb); its text
// is rasterised on the CPU by Fyne's font painter and uploaded as a
// texture, the same painter Fyne's test driver uses. So a sentence
// rendered here in the window's font, size and weight has, up to
// anti-aliasing, the same pixels as on the screen. Both images are
// reduced to ink masks (pixels far from their background) and the
// sentence's mask is searched for in the screenshot's.
//
// The sentence is rendered with the current Fyne app's driver: callers
// set up the test app first (test.NewTempApp).
package screentext

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// Tolerance is the share of a sentence's ink pixels that may differ by
// more than one pixel between the screen and the software render. The
// same sentence differs by none; one whose countdown reads "3 s … 57 s"
// instead of "2 s … 58 s" by 0.4 %.
const Tolerance = 0.002

// FindSentence looks for s in the screenshot as the window draws it: on
// one line, or wrapped onto two (each split at a word boundary is tried;
// the second line must lie below the first). It returns whether it was
// found and, when not, the closest match's share of differing pixels.
func FindSentence(t testing.TB, scr image.Image, s string) (bool, float64) {
	t.Helper()
	sm := inkMask(scr, mostCommon(scr))
	_, f, ok := find(sm, textMask(t, s), Tolerance)
	if ok {
		return true, f
	}
	best := f
	words := strings.Fields(s)
	for i := 1; i < len(words); i++ {
		p1, f1, ok1 := find(sm, textMask(t, strings.Join(words[:i], " ")), Tolerance)
		if !ok1 {
			best = min(best, f1)
			continue
		}
		p2, f2, ok2 := find(sm, textMask(t, strings.Join(words[i:], " ")), Tolerance)
		if ok2 && p2.Y > p1.Y {
			return true, max(f1, f2)
		}
		best = min(best, max(f1, f2))
	}
	return false, best
}

// NoteTolerance is FindNote's: the share of a note's ink pixels that may
// differ at all. Body text's strokes are a pixel or two wide, so every
// pixel counts: the same note on the screen differs by none, one a
// letter longer by 2 %, one with a word changed by 5 %.
const NoteTolerance = 0.01

// FindNote looks for s as the window draws a warning note (the status
// page's notes): body text, regular weight, in the theme's warning
// colour, on one line. It returns what FindSentence does.
func FindNote(t testing.TB, scr image.Image, s string) (bool, float64) {
	t.Helper()
	bg := mostCommon(scr)
	v := theme.VariantLight
	if lum(bg) < 128 {
		v = theme.VariantDark
	}
	ink := lum(theme.DefaultTheme().Color(theme.ColorNameWarning, v))
	_, f, ok := findNear(inkMaskToward(scr, bg, ink), renderMask(t, noteText(s, color.Black)), NoteTolerance, false)
	return ok, f
}

// noteText is s as a warning note is drawn: body size, regular weight.
func noteText(s string, c color.Color) *canvas.Text {
	txt := canvas.NewText(s, c)
	txt.TextSize = theme.DefaultTheme().Size(theme.SizeNameText)
	return txt
}

// SentenceMatcher is FindSentence for one line, with the sentence
// rendered once (a benchmark polls with it).
func SentenceMatcher(t testing.TB, s string) func(image.Image) bool {
	tm := textMask(t, s)
	return func(img image.Image) bool {
		_, _, ok := find(inkMask(img, mostCommon(img)), tm, Tolerance)
		return ok
	}
}

// mask is a binary image: true where there is ink.
type mask struct {
	w, h int
	ink  []bool
}

func (m mask) at(x, y int) bool { return m.ink[y*m.w+x] }

func lum(c color.Color) int {
	r, g, b, _ := c.RGBA()
	return int((299*r + 587*g + 114*b) / 1000 >> 8)
}

// inkMask marks the pixels of img whose brightness is more than halfway
// from bg's towards the far end (white on a dark background, black on a
// light one): glyph cores, not their anti-aliased fringe.
func inkMask(img image.Image, bg color.Color) mask {
	if lum(bg) < 128 {
		return inkMaskToward(img, bg, 255)
	}
	return inkMaskToward(img, bg, 0)
}

// inkMaskToward marks the pixels of img whose brightness is more than
// halfway from bg's towards ink's (the text's brightness).
func inkMaskToward(img image.Image, bg color.Color, ink int) mask {
	b := img.Bounds()
	m := mask{w: b.Dx(), h: b.Dy(), ink: make([]bool, b.Dx()*b.Dy())}
	bl := lum(bg)
	mid := (bl + ink) / 2
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			l := lum(img.At(x, y))
			if ink > bl {
				m.ink[(y-b.Min.Y)*m.w+x-b.Min.X] = l > mid
			} else {
				m.ink[(y-b.Min.Y)*m.w+x-b.Min.X] = l < mid
			}
		}
	}
	return m
}

// near reports whether a pixel next to (x, y) (or the pixel itself) has
// the value v: a glyph edge one pixel off is anti-aliasing, not a
// different glyph.
func (m mask) near(x, y int, v bool) bool {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < m.w && yy < m.h && m.at(xx, yy) == v {
				return true
			}
		}
	}
	return false
}

// crop trims a mask to the bounding box of its ink.
func (m mask) crop() mask {
	x0, y0, x1, y1 := m.w, m.h, -1, -1
	for y := range m.h {
		for x := range m.w {
			if m.at(x, y) {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return mask{}
	}
	out := mask{w: x1 - x0 + 1, h: y1 - y0 + 1}
	out.ink = make([]bool, out.w*out.h)
	for y := range out.h {
		for x := range out.w {
			out.ink[y*out.w+x] = m.at(x0+x, y0+y)
		}
	}
	return out
}

// sentenceText is s as the window's status sentence is drawn: the
// default theme's heading size, bold.
func sentenceText(s string, c color.Color) *canvas.Text {
	txt := canvas.NewText(s, c)
	txt.TextSize = theme.DefaultTheme().Size(theme.SizeNameHeadingText)
	txt.TextStyle = fyne.TextStyle{Bold: true}
	return txt
}

// textMask renders s as the window's status sentence is drawn with
// Fyne's software painter.
func textMask(t testing.TB, s string) mask {
	t.Helper()
	return renderMask(t, sentenceText(s, color.Black))
}

// renderMask is txt's ink, black on white, drawn by Fyne's software painter.
func renderMask(t testing.TB, txt *canvas.Text) mask {
	t.Helper()
	bg := canvas.NewRectangle(color.White)
	w := test.NewWindow(container.NewStack(bg, container.NewPadded(txt)))
	defer w.Close()
	w.SetPadded(false)
	w.Resize(w.Content().MinSize())
	return inkMask(w.Canvas().Capture(), color.White).crop()
}

// find returns where tmpl's ink lies in scr with at most a fraction tol
// of tmpl's pixels disagreeing, and the best fraction seen.
func find(scr, tmpl mask, tol float64) (image.Point, float64, bool) {
	return findNear(scr, tmpl, tol, true)
}

// findNear is find; with near false, a pixel one off is a difference
// too (thin strokes, whose every pixel is next to ink and to none).
func findNear(scr, tmpl mask, tol float64, near bool) (image.Point, float64, bool) {
	ax, ay := -1, -1 // the template's first ink pixel anchors the search
	inkN := 0
	for i, v := range tmpl.ink {
		if v {
			if ax < 0 {
				ax, ay = i%tmpl.w, i/tmpl.w
			}
			inkN++
		}
	}
	best := 1.0
	if inkN == 0 {
		return image.Point{}, best, false
	}
	limit := int(tol * float64(inkN))
	for sy := ay; sy <= scr.h-tmpl.h+ay; sy++ {
		for sx := ax; sx <= scr.w-tmpl.w+ax; sx++ {
			if !scr.at(sx, sy) {
				continue
			}
			ox, oy := sx-ax, sy-ay
			bad := 0
			for y := 0; y < tmpl.h && bad <= limit; y++ {
				for x := range tmpl.w {
					if tmpl.at(x, y) != scr.at(ox+x, oy+y) && (!near || !tmpl.near(x, y, scr.at(ox+x, oy+y)) && !scr.near(ox+x, oy+y, tmpl.at(x, y))) {
						bad++
					}
				}
			}
			if f := float64(bad) / float64(inkN); f < best {
				best = f
				if bad <= limit {
					return image.Pt(ox, oy), f, true
				}
			}
		}
	}
	return image.Point{}, best, false
}

// mostCommon is the colour most pixels have: the window's background.
func mostCommon(img image.Image) color.Color {
	n := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bb, a := img.At(x, y).RGBA()
			n[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8), uint8(a >> 8)}]++
		}
	}
	var best color.RGBA
	for c, k := range n {
		if k > n[best] {
			best = c
		}
	}
	return best
}
