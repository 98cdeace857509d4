//go:build linux && cgo

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/internal/testenv"
)

// wineProcesses are the Linux processes Wine runs a Windows program in
// whose command line (Wine's: the Windows one) holds exe's name, by PID.
func wineProcesses(exe string) map[int]string {
	out := map[int]string{}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			continue
		}
		line := strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
		if strings.Contains(strings.ToLower(line), strings.ToLower(exe)) {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			out[pid] = line
		}
	}
	return out
}

// vmRSS is a process's resident memory in KiB (/proc/PID/status).
func vmRSS(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// topLevelNames lists the names of the shown top-level X windows.
func topLevelNames(display string) []string {
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil
	}
	defer x.Close()
	tree, err := xproto.QueryTree(x, xproto.Setup(x).DefaultScreen(x).Root).Reply()
	if err != nil {
		return nil
	}
	var names []string
	for _, w := range tree.Children {
		attr, err := xproto.GetWindowAttributes(x, w).Reply()
		if err != nil || attr.MapState != xproto.MapStateViewable {
			continue
		}
		name, err := xproto.GetProperty(x, false, w, xproto.AtomWmName, xproto.AtomAny, 0, 256).Reply()
		if err == nil {
			names = append(names, fmt.Sprintf("%q", name.Value))
		}
	}
	return names
}

// TestWindowsAppTrayUnderWine: on Windows, as on Linux, `spare` is a
// small tray process (fyne.io/systray's notification-area icon, no
// window toolkit drawn) that starts the daemon and the window process
// (`spare.exe --window`). Under Wine: the tray process starts `spare
// node` in the distribution through wsl.exe once and opens the window
// process, whose window shows the daemon's status through the bridge
// (golden testdata/wine_bridge.png); only the window process maps the GL
// drivers; closing the window ends the window process, while the tray
// process and the daemon go on. What Wine cannot show (the icon in
// Windows' notification area, its menu, the toast) is smoke.ps1's.
func TestWindowsAppTrayUnderWine(t *testing.T) {
	relay, env, display, installed, wsl := wineWithoutDaemon(t)
	a := runWineApp(t, env, display, wsl.diag(relay), installed)
	closeWSLLimits(t, a)
	a.waitShot("the window process's status of the daemon the tray started", "wine_bridge.png", app.HostScreenTitle)
	checkStartedOnce(t, wsl, relay)

	var tray, window int
	for pid, cmdline := range wineProcesses("spare.exe") {
		switch {
		case strings.Contains(cmdline, "--window"):
			if window != 0 {
				t.Fatalf("two window processes: %d and %d (%v)", window, pid, wineProcesses("spare.exe"))
			}
			window = pid
		case pid == a.pid:
			tray = pid
		}
	}
	if tray == 0 || window == 0 {
		t.Fatalf("spare.exe processes %v: want the tray process (%d) and one --window process", wineProcesses("spare.exe"), a.pid)
	}
	t.Logf("shown top-level windows: %s", strings.Join(topLevelNames(display), ", "))
	trayGL, err := glMappings(tray)
	if err != nil {
		t.Fatal(err)
	}
	winGL, err := glMappings(window)
	if err != nil {
		t.Fatal(err)
	}
	if len(trayGL) > 0 {
		t.Errorf("the tray process maps the GL drivers %q; only the window process should", trayGL)
	}
	if len(winGL) == 0 {
		t.Errorf("the window process maps no GL driver: is it the one drawing?")
	}
	trayRSS, err := vmRSS(tray)
	if err != nil {
		t.Fatal(err)
	}
	winRSS, err := vmRSS(window)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resident memory under Wine: tray process %d KiB, window process %d KiB", trayRSS, winRSS)

	if err := closeWindow(display, app.HostScreenTitle); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the window process to end after its window closed", time.Minute, func() error {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", window)); err == nil {
			return fmt.Errorf("process %d (%s) runs", window, wineProcesses("spare.exe")[window])
		}
		return nil
	})
	if err := a.alive(); err != nil {
		t.Fatalf("the tray process ended with its window: %v", err)
	}
	relay.mu.Lock()
	daemons := 0
	for cmd := range relay.running {
		if slices.Contains(cmd.Args, "node") {
			daemons++
		}
	}
	relay.mu.Unlock()
	if daemons != 1 {
		t.Errorf("%d daemons run in the distribution after the window closed, want the tray's one", daemons)
	}

	// Wine shows notification-area icons in a window of its own (Windows
	// in its notification area): a click on the icon opens the window
	// process again.
	icons, err := windowShot(display, wineTray)
	if err != nil {
		t.Fatal(err)
	}
	cell := icons.Bounds().Dy() // the first icon's square
	if err := clickWindow(display, wineTray, cell/2, cell/2); err != nil {
		t.Fatal(err)
	}
	closeWSLLimits(t, a) // the new window process asks again: it was not answered
	a.waitShot("the window opened again from the tray icon", "wine_bridge.png", app.HostScreenTitle)

	// Starting spare.exe again (the Start menu, a second sign-in start)
	// asks the running tray to open its window and ends: still one tray
	// process and one window process.
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer scancel()
	again := exec.CommandContext(sctx, wineBin(t, "wine64"), installed)
	again.Env = env
	if out, err := again.CombinedOutput(); err != nil || !strings.Contains(string(out), "Spare already runs") {
		t.Fatalf("spare.exe started again: %v: %s", err, out)
	}
	windows := 0
	for _, cmdline := range wineProcesses("spare.exe") {
		if strings.Contains(cmdline, "--window") {
			windows++
		}
	}
	if err := a.alive(); err != nil || windows != 1 {
		t.Fatalf("after a second start: %d window processes, the tray: %v (%v)", windows, err, wineProcesses("spare.exe"))
	}

	// Windows' End task (taskkill without /F: WM_CLOSE to each window of
	// the process, the tray's hidden one among them) ends the tray process
	// as its Quit does: it asks the daemon to stop through the bridge
	// (POST /v1/stop), the daemon drains and exits by itself, and then
	// Spare's distribution is terminated.
	endTask := exec.Command(wineBin(t, "wine64"), "taskkill", "/IM", "spare.exe")
	endTask.Env = env
	if out, err := endTask.CombinedOutput(); err != nil {
		t.Fatalf("taskkill: %v: %s", err, out)
	}
	if err := a.wait(2 * time.Minute); err != nil {
		t.Fatalf("the tray process after End task: %v", err)
	}
	daemon := wslDaemonArgv("wsl", wslDataDir)[4:]
	ends := relay.ends()
	at := slices.IndexFunc(ends, func(e relayEnd) bool { return slices.Equal(e.argv, daemon) })
	if at < 0 || !ends[at].own || ends[at].err != nil {
		t.Fatalf("the daemon's end %+v: want it to exit by itself, cleanly, before wsl.exe ended (ends %+v)", ends[max(at, 0):], ends)
	}
	if !strings.Contains(relay.stderr(), "asked to stop through the LocalAPI") {
		t.Error("the daemon does not say it was asked to stop through the LocalAPI")
	}
	calls := wslCalls(t, wsl.log)
	terminate := wslTerminateArgv("wsl")[1:]
	if n := len(slices.DeleteFunc(slices.Clone(calls), func(c []string) bool { return !slices.Equal(c, terminate) })); n != 1 {
		t.Errorf("wsl.exe calls %q: %d of %q, want one after the daemon stopped", calls, n, terminate)
	}
}

// wineTray is the window in which Wine shows notification-area icons.
const wineTray = "Wine System Tray"
