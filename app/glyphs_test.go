package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
)

// bundledFaces are the fonts the app draws text with: the theme's, with
// no system fallback (SkipSystemFonts) where the language is covered.
type bundledFaces map[string]*font.Face

func loadBundledFaces(t *testing.T) bundledFaces {
	t.Helper()
	out := bundledFaces{}
	for name, res := range map[string]fyne.Resource{
		"regular": theme.DefaultTextFont(), "bold": theme.DefaultTextBoldFont(), "italic": theme.DefaultTextItalicFont(),
		"bold italic": theme.DefaultTextBoldItalicFont(), "monospace": theme.DefaultTextMonospaceFont(),
	} {
		f, err := font.ParseTTF(bytes.NewReader(res.Content()))
		if err != nil {
			t.Fatalf("the bundled %s font: %v", name, err)
		}
		out[name] = f
	}
	return out
}

func styleName(s fyne.TextStyle) string {
	switch {
	case s.Monospace:
		return "monospace"
	case s.Bold && s.Italic:
		return "bold italic"
	case s.Bold:
		return "bold"
	case s.Italic:
		return "italic"
	}
	return "regular"
}

// missing lists the runes of s that the named faces have no glyph for.
func (b bundledFaces) missing(s string, faces ...string) []rune {
	var out []rune
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		for _, f := range faces {
			if _, ok := b[f].NominalGlyph(r); !ok {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// terminalOnly are files whose strings only a terminal shows (in the
// terminal's font, not the app's).
var terminalOnly = map[string]string{
	"cmd/spare/submit_logs.go":     "the provider's log lines of `spare submit`",
	"cmd/spare/submit_progress.go": "the progress line `spare submit` draws on a terminal",
}

// TestSourceStringsHaveGlyphs reads every string literal of Spare's
// non-test code (state sentences, reasons, doctor details and fixes,
// onboarding marks, error messages the daemon sends the window) and fails
// on a character the bundled sans-serif fonts cannot draw: the app would
// show it as �. What only a terminal prints is listed in terminalOnly.
func TestSourceStringsHaveGlyphs(t *testing.T) {
	faces := loadBundledFaces(t)
	root := ".."
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path == root {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == "workloads" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || terminalOnly[rel] != "" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || (lit.Kind != token.STRING && lit.Kind != token.CHAR) {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
				return true
			}
			checked++
			if m := faces.missing(s, "regular", "bold", "italic", "bold italic"); len(m) > 0 {
				t.Errorf("%s: %q has %q, which the bundled fonts cannot draw (use words, or an icon)", fset.Position(lit.Pos()), s, string(m))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 1000 {
		t.Fatalf("only %d string literals read: is the walk rooted at the module?", checked)
	}
}

// TestScreensHaveGlyphs draws every screen, the tray menu and the
// notifications for each state and reason the governor can say, and the
// onboarding with each kind of check, and fails on a character that the
// bundled font of its style (the font the toolkit draws it in) lacks.
func TestScreensHaveGlyphs(t *testing.T) {
	faces := loadBundledFaces(t)
	fy := test.NewTempApp(t)
	a := New(fy, Config{DataDir: t.TempDir(), Session: &SessionInfo{Bus: true, TrayHost: true},
		Doctor: func(context.Context) []Check { return nil }})
	seen := map[string]bool{}
	look := func(where, text string, style fyne.TextStyle) {
		key := styleName(style) + "\x00" + text
		if seen[key] {
			return
		}
		seen[key] = true
		if m := faces.missing(text, styleName(style)); len(m) > 0 {
			t.Errorf("%s shows %q in %s: %q is not in the bundled font", where, text, styleName(style), string(m))
		}
	}
	drawn := func(where string) {
		for _, txt := range drawnTexts(a.ui.w.Canvas().Content(), nil) {
			look(where, txt.Text, txt.TextStyle)
		}
	}
	fyne.DoAndWait(func() {
		a.ui.w.Resize(windowSize)
		if a.ui.onboard == nil {
			t.Fatal("no onboarding on a first run")
		}
		a.ui.onboard.show(sampleChecks)
		drawn("the onboarding")
		a.ui.onboard.toggleDetails()
		drawn("the onboarding's details")
		a.ui.onboard.show(sampleChecks[:1])
		drawn("the onboarding, ready")
		a.ui.w.SetContent(a.ui.tabs)
		var prev View
		for _, v := range sampleViews(time.Now()) {
			a.ui.render(v)
			a.tray.render(v)
			for _, tab := range a.ui.tabs.Items {
				a.ui.tabs.Select(tab)
				drawn(fmt.Sprintf("the %s page (%s)", tab.Text, v.Sentence))
			}
			menuLabels(a.tray.menu, func(l string) { look("the tray menu", l, fyne.TextStyle{}) })
			for _, n := range Notices(prev, v, true) {
				look("a notification", n.Title, fyne.TextStyle{Bold: true})
				look("a notification", n.Body, fyne.TextStyle{})
			}
			prev = v
		}
	})
	if len(seen) < 100 {
		t.Fatalf("only %d texts drawn: the walk misses the screens", len(seen))
	}
}

// drawnTexts lists the text the toolkit paints under o.
func drawnTexts(o fyne.CanvasObject, out []*canvas.Text) []*canvas.Text {
	if o == nil || !o.Visible() {
		return out
	}
	switch c := o.(type) {
	case *canvas.Text:
		out = append(out, c)
	case *fyne.Container:
		for _, child := range c.Objects {
			out = drawnTexts(child, out)
		}
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			out = drawnTexts(child, out)
		}
	}
	return out
}

func menuLabels(m *fyne.Menu, fn func(string)) {
	for _, it := range m.Items {
		fn(it.Label)
		if it.ChildMenu != nil {
			menuLabels(it.ChildMenu, fn)
		}
	}
}

// sampleChecks are one check of each kind onboarding draws.
var sampleChecks = []Check{
	{Name: "data directory", OK: true, Detail: "/home/owner/.local/share/spare"},
	{Name: "containerd", Required: true, Detail: "no containerd at /run/containerd/containerd.sock", Fix: "sudo systemctl start containerd",
		Plain: "The container service (containerd) that runs jobs is not running.", Action: &FixAction{Label: "Start the container service"}},
	{Name: "spare group", OK: true, Warn: true, Detail: "alice is not in the spare group", Fix: "sudo usermod -aG spare alice",
		Plain: "Your account may not use Spare's service yet.", Action: &FixAction{Label: "Let my account use Spare", After: "Log out and back in for it to take effect."}},
	{Name: "cgroups", Required: true, Detail: "cgroup v2 without cgroup.freeze", Fix: "upgrade to Linux 5.2 or newer"},
	{Name: "GPU (NVML, CDI)", OK: true, Warn: true, Detail: "no NVIDIA GPU — CPU-only jobs", Fix: "install the NVIDIA driver"},
}

// sampleViews are the views of every state with every reason, sentences
// rendered by the governor, and one of a daemon that does not answer.
func sampleViews(now time.Time) []View {
	job := "7f3a9c0e5b2d4f1a8c6e"
	details := Details{
		Wallet: &localapi.Wallet{Address: "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", Unit: unit, Earned: 7_350_000, Today: 1_250_000,
			Energy: localapi.Energy{TodayMWh: 83, WeekMWh: 12_345, MonthMWh: 4_560_000, Estimated: true},
			History: []localapi.Activity{
				{At: now, Kind: localapi.ActivityJob, Job: "0x" + strings.Repeat("ab", 32), Amount: 350_000},
				{At: now, Kind: localapi.ActivityPayout, To: "0x8ba1f109551bD432803012645Ac136ddd64DBA72", Amount: 1_000_000},
			}},
		Telemetry: localapi.Telemetry{IntervalS: 10, Devices: []localapi.DeviceSeries{{UUID: "GPU-1", Name: "NVIDIA GeForce RTX 4070", VRAMTotal: 12 << 30,
			Samples: []localapi.Sample{{At: now.Add(-time.Minute), Util: 97, VRAMUsed: 6 << 30, TempC: 71, PowerMW: 180_000}}}}},
		Job: &localapi.Job{ID: job, Kind: "render", Requester: "12D3KooW…x9Yz", Started: now.Add(-90 * time.Second), Earned: 40_000, State: localapi.JobRunning},
	}
	var out []View
	for st := governor.Off; st <= governor.Draining; st++ {
		for _, code := range append([]localapi.Reason{localapi.ReasonNone}, localapi.Reasons...) {
			ph := governor.Phase{State: st, Since: now.Add(-3 * time.Second), GPUs: []string{"NVIDIA GeForce RTX 4070"},
				Reason: governor.Reason{Code: code, At: now.Add(-3 * time.Second), Next: now.Add(297 * time.Second), Detail: "steam_game", Value: 86, Limit: 80}}
			if st == governor.Running || st == governor.Frozen {
				ph.Job, ph.EndsAt = job, now.Add(40*time.Second)
			}
			if st == governor.Paused && code == localapi.ReasonNone {
				ph.Until = now.Add(time.Hour)
			}
			s := localapi.Status{State: st.Word(), Reason: code, Sentence: ph.Sentence(now), Brief: ph.Brief(now), Job: ph.Job, Until: ph.Until,
				EarnedToday: "1.250000", GPU: "no NVIDIA GPU: NVML library not found — offering CPU-only work", Notice: "Playground: work starts after 1s without input",
				Devices: []localapi.Device{{UUID: "GPU-1", Name: "NVIDIA GeForce RTX 4070", Usable: st == governor.Available, Reason: code, Job: ph.Job}}}
			out = append(out, Derive(s, nil, details, now))
		}
	}
	return append(out, Derive(localapi.Status{}, localapi.ErrNoDaemon, Details{WalletErr: errors.New("no wallet")}, now))
}
