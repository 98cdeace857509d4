package app

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

func TestThemeFontCovers(t *testing.T) {
	for tag, want := range map[string]bool{
		"en": true, "en-US": true, "de-DE": true, "fr-FR": true, "ru-RU": true, "el-GR": true, "pl-PL": true,
		"ja-JP": false, "zh-CN": false, "ko-KR": false, "ar-EG": false, "hi-IN": false, "th-TH": false,
	} {
		if got := themeFontCovers(tag); got != want {
			t.Errorf("themeFontCovers(%q) = %v, want %v", tag, got, want)
		}
	}
}

// TestSkipSystemFonts draws the same text in the four styles the app uses
// in fresh processes (the toolkit loads its fonts once per process): with
// the toolkit's own font handling, and after SkipSystemFonts. The text
// must come out the same, pixel for pixel, on less heap; in a language the
// bundled font does not cover, the toolkit's fallback stays.
func TestSkipSystemFonts(t *testing.T) {
	if mode := os.Getenv("SPARE_FONT_CHILD"); mode != "" {
		fontChild(t, mode, os.Getenv("SPARE_FONT_OUT"))
		return
	}
	toolkit := runFontChild(t, "toolkit", "en_US.UTF-8")
	if !toolkit.systemFonts {
		t.Fatal("the toolkit loaded no system font fallback: this test needs system fonts (scripts/deps.sh test installs fonts-dejavu-core)")
	}
	skip := runFontChild(t, "skip", "en_US.UTF-8")
	if skip.systemFonts {
		t.Fatal("after SkipSystemFonts the toolkit still made its system font map")
	}
	if !bytes.Equal(toolkit.png, skip.png) {
		t.Fatal("the text is drawn differently without the system fonts")
	}
	saved := float64(toolkit.heap-skip.heap) / (1 << 20)
	t.Logf("live heap after drawing: %.1f MiB with the toolkit's fonts, %.1f MiB without system fonts (%.1f MiB less)",
		float64(toolkit.heap)/(1<<20), float64(skip.heap)/(1<<20), saved)
	if saved < 4 {
		t.Fatalf("skipping the system fonts saved %.1f MiB of heap; expected several (one parsed font per style)", saved)
	}
	ja := runFontChild(t, "skip", "ja_JP.UTF-8")
	if !ja.systemFonts {
		t.Fatal("in Japanese the bundled font cannot draw the text, yet the toolkit's fallback was dropped")
	}
}

type fontChildResult struct {
	systemFonts bool
	heap        uint64
	png         []byte
}

func runFontChild(t *testing.T, mode, locale string) fontChildResult {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSkipSystemFonts$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SPARE_FONT_CHILD="+mode, "SPARE_FONT_OUT="+out,
		"LANG="+locale, "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s (%s): %v\n%s", mode, locale, err, b)
	}
	var r fontChildResult
	report, err := os.ReadFile(filepath.Join(out, "report"))
	if err != nil {
		t.Fatal(err)
	}
	var fonts, heap string
	if _, err := fmt.Sscan(string(report), &fonts, &heap); err != nil {
		t.Fatalf("report %q: %v", report, err)
	}
	r.systemFonts = fonts == "system-fonts"
	if r.heap, err = strconv.ParseUint(heap, 10, 64); err != nil {
		t.Fatal(err)
	}
	if r.png, err = os.ReadFile(filepath.Join(out, "text.png")); err != nil {
		t.Fatal(err)
	}
	return r
}

func fontChild(t *testing.T, mode, out string) {
	if mode == "skip" {
		SkipSystemFonts()
	}
	test.NewTempApp(t)
	line := "Earning 0.000400 USDC — GPU 0: 61 °C, 212 W; next job in 4 min…"
	var texts []fyne.CanvasObject
	for _, s := range []fyne.TextStyle{{}, {Bold: true}, {Italic: true}, {Monospace: true}} {
		txt := canvas.NewText(line, theme.Color(theme.ColorNameForeground))
		txt.TextStyle = s
		texts = append(texts, txt)
	}
	w := test.NewWindow(container.NewVBox(texts...))
	defer w.Close()
	w.Resize(fyne.NewSize(640, 160))
	var buf bytes.Buffer
	if err := png.Encode(&buf, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	painterFontLock.Lock()
	fonts := "no-system-fonts"
	if painterFontMap != nil {
		fonts = "system-fonts"
	}
	painterFontLock.Unlock()
	report := strings.Join([]string{fonts, strconv.FormatUint(ms.HeapAlloc, 10)}, " ")
	if err := os.WriteFile(filepath.Join(out, "report"), []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "text.png"), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(texts)
}
