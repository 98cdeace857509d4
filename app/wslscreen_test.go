//go:build linux

package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/app/wslconfig"
	"github.com/sparegpu/spare/localapi"
)

// A user's own .wslconfig: CRLF, a comment, a memory limit of theirs, a
// key Spare does not own.
const usersWSLConfig = "# mine\r\n[wsl2]\r\nmemory=16GB\r\nswap=0\r\n"

// A 32 GB PC with 16 logical processors.
var pc = wslconfig.Host{MemoryMB: 32768, Processors: 16}

func TestWSLAsk(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".wslconfig")
	if err := os.WriteFile(path, []byte(usersWSLConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := wslconfig.LimitsFor(pc, wslconfig.Choice{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := wslconfig.Propose(path, l)
	if err != nil {
		t.Fatal(err)
	}
	if !app.WSLAsk(p, "") {
		t.Error("a file that would change, never declined: not asked")
	}
	if app.WSLAsk(p, "24576MB/14") {
		t.Error("asked again for the limits the owner said Not now to")
	}
	if !app.WSLAsk(p, "8192MB/4") {
		t.Error("other limits than those declined: not asked")
	}
	if _, err := wslconfig.Write(p); err != nil {
		t.Fatal(err)
	}
	same, err := wslconfig.Propose(path, l)
	if err != nil {
		t.Fatal(err)
	}
	if app.WSLAsk(same, "") {
		t.Error("asked although the file already holds the limits")
	}
}

// wslGoldenFile is a .wslconfig at a fixed path: the window shows it.
func wslGoldenFile(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "spare-wslconfig-golden")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, ".wslconfig")
	if err := os.WriteFile(path, []byte(usersWSLConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWSLLimitsScreen: the window says what Spare would change in the
// user's .wslconfig and why, writes it only on the owner's yes, with a
// backup, and says WSL must restart for it.
func TestWSLLimitsScreen(t *testing.T) {
	fy := test.NewTempApp(t)
	test.ApplyTheme(t, theme.DefaultTheme())
	path := wslGoldenFile(t)
	var saved []wslconfig.Choice
	w := app.ShowWSLLimits(fy, app.WSLConfig{Path: path, Host: pc}, wslconfig.Choice{}, func(c wslconfig.Choice, declined string) {
		if declined != "" {
			t.Errorf("saved as declined (%q) on the owner's yes", declined)
		}
		saved = append(saved, c)
	})
	w.Resize(fyne.NewSize(720, 560))
	shown := strings.Join(labels(w.Content()), "\n")
	for _, want := range []string{"24.0 GB of memory, 14 processors", "all your WSL distributions", path,
		"- memory=16GB", "+ memory=24576MB", "+ processors=14", "(yours before Spare changed it)"} {
		if !strings.Contains(shown, want) {
			t.Errorf("%q is not shown; the labels:\n%s", want, shown)
		}
	}
	test.AssertImageMatches(t, "wsl_limits.png", w.Canvas().Capture())
	if b, _ := os.ReadFile(path); string(b) != usersWSLConfig {
		t.Fatal("the file changed before the owner said yes")
	}

	// The owner chooses 20 GB, then says yes.
	mem := findEntry(t, w.Content(), "24")
	test.Type(mem, "20")
	if shown := strings.Join(labels(w.Content()), "\n"); !strings.Contains(shown, "+ memory=20480MB") {
		t.Fatalf("the changes do not follow the owner's 20 GB:\n%s", shown)
	}
	test.Tap(findButton(t, w, "Change .wslconfig"))
	got, _ := os.ReadFile(path)
	if !strings.Contains(string(got), "memory=20480MB\r\n") || !strings.Contains(string(got), "processors=14\r\n") || !strings.Contains(string(got), "swap=0\r\n") {
		t.Fatalf("written:\n%s", got)
	}
	if b, _ := os.ReadFile(path + wslconfig.BackupSuffix); string(b) != usersWSLConfig {
		t.Fatalf("backup holds %q, want the file as it was", b)
	}
	if len(saved) != 1 || saved[0] != (wslconfig.Choice{MemoryGB: 20}) {
		t.Fatalf("choices saved %+v, want one of 20 GB", saved)
	}
	shown = strings.Join(labels(w.Content()), "\n")
	for _, want := range []string{"Saved.", path + wslconfig.BackupSuffix, "wsl --shutdown", "already holds these limits"} {
		if !strings.Contains(shown, want) {
			t.Errorf("after the write, %q is not shown; the labels:\n%s", want, shown)
		}
	}
	test.AssertImageMatches(t, "wsl_limits_saved.png", w.Canvas().Capture())
}

// TestWSLLimitsRefuses: a choice beyond the PC, and a file WSL could not
// read, are said in words and nothing can be written.
func TestWSLLimitsRefuses(t *testing.T) {
	fy := test.NewTempApp(t)
	path := filepath.Join(t.TempDir(), ".wslconfig")
	if err := os.WriteFile(path, []byte(usersWSLConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	w := app.ShowWSLLimits(fy, app.WSLConfig{Path: path, Host: pc}, wslconfig.Choice{MemoryGB: 64}, func(wslconfig.Choice, string) {
		t.Error("saved a choice beyond the PC")
	})
	if shown := strings.Join(labels(w.Content()), "\n"); !strings.Contains(shown, "memory for jobs 64 GB: this PC has 32.0 GB") {
		t.Fatalf("a 64 GB choice on a 32 GB PC is not explained:\n%s", shown)
	}
	test.Tap(findButton(t, w, "Change .wslconfig")) // disabled: does nothing
	if b, _ := os.ReadFile(path); string(b) != usersWSLConfig {
		t.Fatal("written despite the refusal")
	}

	utf16 := filepath.Join(t.TempDir(), ".wslconfig")
	if err := os.WriteFile(utf16, []byte{0xFF, 0xFE, '[', 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	w = app.ShowWSLLimits(fy, app.WSLConfig{Path: utf16, Host: pc}, wslconfig.Choice{}, func(wslconfig.Choice, string) {})
	if shown := strings.Join(labels(w.Content()), "\n"); !strings.Contains(shown, "save it as UTF-8 in Notepad") {
		t.Fatalf("a UTF-16 file is not explained:\n%s", shown)
	}
}

// TestWSLAskAtStart: the app asks when it starts; Not now is kept in its
// settings and the next start does not ask again for the same limits.
func TestWSLAskAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(t.TempDir(), ".wslconfig")
	if err := os.WriteFile(path, []byte(usersWSLConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{DataDir: dir, Client: localapi.NewClient(dir), Session: &app.SessionInfo{Bus: true},
		WSL: &app.WSLConfig{Path: path, Host: pc}}
	a := startApp(t, cfg)
	var asked fyne.Window
	a.Inspect(func() { asked = windowTitled(a, app.WSLLimitsTitle) })
	if asked == nil {
		t.Fatal("the app did not ask to set WSL's limits at start")
	}
	a.Inspect(func() { test.Tap(findButton(t, asked, "Not now")) })
	s, err := app.LoadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.WSLDeclined != "24576MB/14" {
		t.Fatalf("settings keep %q declined, want the limits shown", s.WSLDeclined)
	}
	if b, _ := os.ReadFile(path); string(b) != usersWSLConfig {
		t.Fatal("Not now changed the file")
	}

	b := startApp(t, cfg)
	b.Inspect(func() {
		if windowTitled(b, app.WSLLimitsTitle) != nil {
			t.Error("asked again at start after Not now for the same limits")
		}
	})
}

func windowTitled(a *app.App, title string) fyne.Window {
	for _, w := range fyne.CurrentApp().Driver().AllWindows() {
		if w.Title() == title && w != a.UI().Window() {
			return w
		}
	}
	return nil
}

// findEntry finds the entry whose placeholder is placeholder under o,
// forms included.
func findEntry(t *testing.T, o fyne.CanvasObject, placeholder string) *widget.Entry {
	t.Helper()
	var walk func(o fyne.CanvasObject) *widget.Entry
	walk = func(o fyne.CanvasObject) *widget.Entry {
		switch o := o.(type) {
		case *widget.Entry:
			if o.PlaceHolder == placeholder {
				return o
			}
		case *widget.Form:
			for _, it := range o.Items {
				if e := walk(it.Widget); e != nil {
					return e
				}
			}
		case *container.Scroll:
			return walk(o.Content)
		case *fyne.Container:
			for _, c := range o.Objects {
				if e := walk(c); e != nil {
					return e
				}
			}
		}
		return nil
	}
	e := walk(o)
	if e == nil {
		t.Fatalf("no entry with placeholder %q", placeholder)
	}
	return e
}
