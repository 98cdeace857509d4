//go:build linux && cgo

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/internal/testenv"
)

// windowProcess finds the window process (`spare --window`) the tray
// process trayPID started; 0 when none runs.
func windowProcess(trayPID int) int {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		if parentPID(dir) != trayPID {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			continue
		}
		if args := strings.Split(string(b), "\x00"); len(args) > 1 && args[0] == spareBin && args[1] == "--window" {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			return pid
		}
	}
	return 0
}

// glMappings lists the OpenGL driver files a process maps: Mesa's DRI
// drivers (llvmpipe in Xvfb), its gallium library and the LLVM it JITs
// shaders with. libGL and libGLX themselves are linked into the binary
// and small; these are what drawing brings in.
func glMappings(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		p := f[5]
		base := filepath.Base(p)
		if strings.Contains(p, "/dri/") || strings.HasPrefix(base, "libgallium") || strings.HasPrefix(base, "libLLVM") ||
			strings.HasPrefix(base, "libGLX_mesa") {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// waitWindowProcess waits for the tray process to have started its
// window process and returns its ID.
func waitWindowProcess(t testing.TB, a *desktopApp) int {
	t.Helper()
	var pid int
	testenv.WaitFor(t, "the tray process starts the window process", 30*time.Second, func() error {
		if a.exited() {
			return fmt.Errorf("the app exited: %v", a.err)
		}
		if pid = windowProcess(a.cmd.Process.Pid); pid == 0 {
			return errors.New("no `spare --window` child")
		}
		return nil
	})
	return pid
}

// trayOnlyRSS starts the app with args, waits for its window to be drawn,
// closes it to the tray, lets the app settle and reads its resident
// memory; it also returns the GL driver files the process still maps.
func trayOnlyRSS(b *testing.B, data, display string, env []string, args ...string) (rss, []string) {
	b.Helper()
	a := startGUI(b, data, env, args...)
	testenv.WaitFor(b, "the window shows", 60*time.Second, func() error {
		if a.exited() {
			return fmt.Errorf("the app exited: %v", a.err)
		}
		_, err := windowShot(display, "Spare")
		return err
	})
	if err := closeWindow(display, "Spare"); err != nil {
		b.Fatal(err)
	}
	testenv.WaitFor(b, "the window closes to the tray", 20*time.Second, func() error {
		if _, err := windowShot(display, "Spare"); err == nil {
			return errors.New("the window is still shown")
		}
		if pid := windowProcess(a.cmd.Process.Pid); pid != 0 {
			return fmt.Errorf("the window process %d still runs", pid)
		}
		return nil
	})
	time.Sleep(app.DefaultSettleAfter + 5*time.Second)
	if a.exited() {
		b.Fatalf("the app exited when its window closed to the tray: %v", a.err)
	}
	r, err := readRSS(a.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	gl, err := glMappings(a.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	a.stop(b)
	return r, gl
}

// benchTrayOnly measures the tray-only app n times each way, interleaved
// so that a noisy machine moves both alike: one process holding the tray
// and the (hidden) window, as before (--one-process), and the tray
// process alone once its window process has ended. It reports both
// medians side by side and fails if the tray process still maps a GL
// driver.
func benchTrayOnly(b *testing.B, data, sock, display string, env []string, n int) {
	b.Helper()
	if err := os.WriteFile(filepath.Join(data, "app-settings.json"), []byte(`{"onboarded": true}`), 0o600); err != nil {
		b.Fatal(err)
	}
	var one, two []float64
	for i := range n {
		r, gl := trayOnlyRSS(b, data, display, env, "--one-process", "--log-level", "info", "--data", data, "--containerd", sock)
		one = append(one, r.total)
		b.Logf("tray-only run %d, one process: %.1f MB (anon %.1f, files %.1f); GL driver files mapped: %d", i+1, r.total, r.anon, r.file, len(gl))
		r, gl = trayOnlyRSS(b, data, display, env, "--log-level", "info", "--data", data, "--containerd", sock)
		two = append(two, r.total)
		b.Logf("tray-only run %d, tray process: %.1f MB (anon %.1f, files %.1f); GL driver files mapped: %d", i+1, r.total, r.anon, r.file, len(gl))
		if len(gl) > 0 {
			b.Errorf("the tray process maps GL driver files with no window open: %q", gl)
		}
	}
	m1, m2 := medianF(one), medianF(two)
	fmt.Fprintf(os.Stderr, "bench: tray-only RSS, median of %d: one process (before) %.1f MB | tray process (now) %.1f MB (goal <= 100 MB)\n", n, m1, m2)
	b.ReportMetric(m1, "app-tray-rss-1proc-MB")
	b.ReportMetric(m2, "app-tray-rss-MB")
}

func medianF(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// countWindowProcesses counts the window processes trayPID started that
// still run.
func countWindowProcesses(trayPID int) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		if parentPID(dir) != trayPID {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if args := strings.Split(string(b), "\x00"); err == nil && len(args) > 1 && args[0] == spareBin && args[1] == "--window" {
			n++
		}
	}
	return n
}

// notice is a desktop notification as the notification server got it.
type notice struct{ app, title, body string }

// notifier plays the desktop's notification server
// (org.freedesktop.Notifications): it keeps what it is sent.
type notifier struct{ got chan notice }

func (n *notifier) Notify(app string, _ uint32, _, title, body string, _ []string, _ map[string]dbus.Variant, _ int32) (uint32, *dbus.Error) {
	select {
	case n.got <- notice{app, title, body}:
	default:
	}
	return 1, nil
}

// runNotifier owns org.freedesktop.Notifications on the bus at addr.
func runNotifier(t testing.TB, addr string) *notifier {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifier{got: make(chan notice, 16)}
	if err := conn.Export(n, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning org.freedesktop.Notifications: %v %v", r, err)
	}
	return n
}

// childDaemon finds the `spare node` the process pid started; 0: none.
func childDaemon(pid int) int {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		if parentPID(dir) != pid {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if args := strings.Split(string(b), "\x00"); err == nil && len(args) > 1 && args[0] == spareBin && args[1] == "node" {
			child, _ := strconv.Atoi(filepath.Base(dir))
			return child
		}
	}
	return 0
}
