//go:build linux && cgo

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/internal/testenv"
)

// The Windows app (cross-built with cgo by `make windows`) under Wine on
// an Xvfb of the test's own. Wine has no WSL, no NVIDIA driver: the app
// must open, explain both with their fixes, and close cleanly.

// wineBin finds Debian's wine64 (package wine64: /usr/lib/wine/wine64,
// on PATH only with the wine package).
func wineBin(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/lib/wine", name)
	_, err := os.Stat(p)
	testenv.Need(t, err == nil, name, "apt-get install wine64 (scripts/deps.sh test)")
	return p
}

// windowsApp returns spare.exe: the one `make windows` built
// (SPARE_WINDOWS_APP, as `make test` sets it), or one built here. The cgo
// cross build takes minutes cold; Go's build cache keeps it after.
func windowsApp(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SPARE_WINDOWS_APP"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("SPARE_WINDOWS_APP=%s: %v (run `make windows`)", p, err)
		}
		return p
	}
	cc := testenv.NeedCommand(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
	out := filepath.Join(t.TempDir(), "spare.exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-H windowsgui", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=windows", "GOARCH=amd64", "CC="+cc)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building spare.exe: %v\n%s", err, b)
	}
	return out
}

// winePrefix makes a Wine prefix of the test's own on display and puts
// the ProcessPrng shim (packaging/windows/wine) in its System32; it
// returns the environment to run Wine with. wineserver ends with the test.
func winePrefix(t *testing.T, display string) []string {
	t.Helper()
	wine := wineBin(t, "wine64")
	server := wineBin(t, "wineserver")
	cc := testenv.NeedCommand(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
	prefix := t.TempDir()
	env := append(os.Environ(), "WINEPREFIX="+prefix, "WINEARCH=win64", "DISPLAY="+display, "WINEDEBUG=-all",
		"WINESERVER="+server,
		"WINEDLLOVERRIDES=mscoree,mshtml=;winemenubuilder.exe=d") // no Mono or Gecko installer dialogs, no menu entries
	t.Cleanup(func() {
		k := exec.Command(server, "-k")
		k.Env = env
		_ = k.Run()
	})
	boot := exec.Command(wine, "wineboot", "--init")
	boot.Env = env
	if b, err := boot.CombinedOutput(); err != nil {
		t.Fatalf("wineboot --init: %v\n%s", err, b)
	}
	wait := exec.Command(server, "-w") // until the prefix is written
	wait.Env = env
	if b, err := wait.CombinedOutput(); err != nil {
		t.Fatalf("wineserver -w: %v\n%s", err, b)
	}
	dll := filepath.Join(prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	shim := exec.Command(cc, "-shared", "-O2", "-o", dll, filepath.Join("..", "..", "packaging", "windows", "wine", "bcryptprimitives.c"), "-ladvapi32")
	if b, err := shim.CombinedOutput(); err != nil {
		t.Fatalf("building the ProcessPrng shim: %v\n%s", err, b)
	}
	return env
}

// TestWindowsAppWithoutWSL runs spare.exe under Wine: its window shows
// that WSL2 and an NVIDIA driver are missing, with the fixes, matches
// its golden screenshot, and closing it ends the app with status 0.
func TestWindowsAppWithoutWSL(t *testing.T) {
	exe := windowsApp(t)
	display := testenv.PrivateDisplay(t)
	env := winePrefix(t, display)

	// Output to a file, not a pipe: Wine's helper processes inherit it
	// and would hold a pipe open after spare.exe ends.
	out, err := os.Create(filepath.Join(t.TempDir(), "spare.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(wineBin(t, "wine64"), exe)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // owned here: ends with the process
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill() // our own child, by its PID
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("spare.exe under Wine said:\n%s", b)
		}
		out.Close()
	})

	// The screen is drawn once the window matches its golden: the
	// sentences and their fixes as Wine draws them (testdata/wine_nowsl.png;
	// app.TestHostScreen checks the same texts in the widget tree).
	want, err := readPNG(filepath.Join("testdata", "wine_nowsl.png"))
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	var last *image.RGBA
	t.Cleanup(func() {
		if t.Failed() && last != nil {
			writeFailed(t, "wine_nowsl.png", last)
		}
	})
	testenv.WaitFor(t, "the no-WSL2 screen (matching testdata/wine_nowsl.png; a failure leaves the last screenshot in testdata/failed/)", 3*time.Minute, func() error {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("spare.exe exited: %v", err)
		default:
		}
		s, err := windowShot(display, app.HostScreenTitle)
		if err != nil {
			return err
		}
		last = s
		return goldenDiff(s, want)
	})
	t.Logf("the no-WSL2 screen was drawn %v after start", time.Since(start).Round(time.Millisecond))

	if err := closeWindow(display, app.HostScreenTitle); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err // for the clean-up, which waits on it too
		if err != nil {
			t.Fatalf("spare.exe ended with %v after its window closed, want status 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("spare.exe still runs a minute after its window closed")
	}
}

// goldenDiff compares a screenshot with its golden, tolerating the small
// differences of font rasterising and GL drivers: the same size, and at
// most 1% of pixels off by more than a quarter of the range.
func goldenDiff(got, want image.Image) error {
	if got.Bounds().Size() != want.Bounds().Size() {
		return fmt.Errorf("screenshot is %v, golden %v", got.Bounds().Size(), want.Bounds().Size())
	}
	off, total := 0, 0
	gb, wb := got.Bounds(), want.Bounds()
	for y := 0; y < gb.Dy(); y++ {
		for x := 0; x < gb.Dx(); x++ {
			total++
			r1, g1, b1, _ := got.At(gb.Min.X+x, gb.Min.Y+y).RGBA()
			r2, g2, b2, _ := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
			if diff(r1, r2) > 0x4000 || diff(g1, g2) > 0x4000 || diff(b1, b2) > 0x4000 {
				off++
			}
		}
	}
	if off*100 > total {
		return fmt.Errorf("%d of %d pixels differ from the golden (more than 1%%)", off, total)
	}
	return nil
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

func writeFailed(t *testing.T, name string, img image.Image) {
	t.Helper()
	p := filepath.Join("testdata", "failed", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Log(err)
		return
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Log(err)
		return
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Log(err)
	}
}
