package app_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/app"
)

// TestHostScreen draws the screen a Windows PC without WSL2 or an NVIDIA
// driver shows (the same window the Wine test photographs), and Check
// again reads the PC anew.
func TestHostScreen(t *testing.T) {
	fy := test.NewTempApp(t)
	test.ApplyTheme(t, theme.DefaultTheme())
	bare := app.HostProblems(app.HostFacts{})
	checked := 0
	w := app.ShowHostProblems(fy, bare, func() []app.HostProblem { checked++; return nil })
	w.Resize(fyne.NewSize(640, 420))
	shown := strings.Join(labels(w.Content()), "\n")
	for _, p := range bare {
		for _, s := range []string{p.Problem, p.Fix} {
			if !strings.Contains(shown, s) {
				t.Errorf("%q is not shown; the labels:\n%s", s, shown)
			}
		}
	}
	test.AssertImageMatches(t, "host_nowsl.png", w.Canvas().Capture())

	test.Tap(findButton(t, w, "Check again"))
	if checked != 1 {
		t.Fatalf("Check again read the PC %d times, want 1", checked)
	}
	if m := strings.Join(labels(w.Content()), "\n"); !strings.Contains(m, "This PC is ready") || strings.Contains(m, app.NoWSL) {
		t.Errorf("after a good check the screen still shows problems:\n%s", m)
	}
}

// findButton finds the button labelled text among the window's containers.
func findButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	var walk func(o fyne.CanvasObject) *widget.Button
	walk = func(o fyne.CanvasObject) *widget.Button {
		switch o := o.(type) {
		case *widget.Button:
			if o.Text == text {
				return o
			}
		case *fyne.Container:
			for _, c := range o.Objects {
				if b := walk(c); b != nil {
					return b
				}
			}
		}
		return nil
	}
	b := walk(w.Content())
	if b == nil {
		t.Fatalf("no button %q", text)
	}
	return b
}

// labels lists the texts of the labels under o, scrolled ones included.
func labels(o fyne.CanvasObject) []string {
	switch o := o.(type) {
	case *widget.Label:
		return []string{o.Text}
	case *container.Scroll:
		return labels(o.Content)
	case *fyne.Container:
		var out []string
		for _, c := range o.Objects {
			out = append(out, labels(c)...)
		}
		return out
	}
	return nil
}
