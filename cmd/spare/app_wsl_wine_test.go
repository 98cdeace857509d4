//go:build linux && cgo

package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/internal/testenv"
)

// The real Windows app under Wine, on a PC where WSL2 and the NVIDIA
// driver are present: wsl.exe is a stand-in (packaging/windows/wine/
// fakewsl) that answers as WSL does and relays `wsl -d Spare -- CMD` to
// this test (wslRelay), which runs CMD with the real Linux `spare`.
// First run imports the distribution while the window shows it (and,
// when the import fails, says why and offers Try again); then the window
// shows the daemon's status through the bridge, from a `spare node` that
// runs already or that the app starts through wsl.exe.

// zPath is a Linux path as Wine's programs name it (drive Z: is /).
func zPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// fakeWSL is the wsl.exe stand-in in a Wine prefix and the files it
// reads and writes.
type fakeWSL struct {
	env []string // what it reads: SPARE_FAKEWSL_*
	// log is its record of calls; state the distributions imported; gate
	// holds an import until it exists; while fail exists, an import
	// fails with its text.
	log, state, gate, fail string
}

// installFakeWSL builds the wsl.exe stand-in into the prefix's System32,
// with the files the app's host check looks for (an NVIDIA driver that
// brings CUDA into WSL2), relaying to relay.
func installFakeWSL(t *testing.T, prefix string, relay *wslRelay) *fakeWSL {
	t.Helper()
	sys := filepath.Join(prefix, "drive_c", "windows", "system32")
	build := exec.Command("go", "build", "-o", filepath.Join(sys, "wsl.exe"), filepath.Join("..", "..", "packaging", "windows", "wine", "fakewsl"))
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the wsl.exe stand-in: %v\n%s", err, b)
	}
	for _, f := range []string{filepath.Join(sys, "nvapi64.dll"), filepath.Join(sys, "lxss", "lib", "libcuda.so")} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("stand-in"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	w := &fakeWSL{log: filepath.Join(dir, "wsl-calls.jsonl"), state: filepath.Join(dir, "distributions"),
		gate: filepath.Join(dir, "import-gate"), fail: filepath.Join(dir, "import-fails")}
	w.env = []string{"SPARE_FAKEWSL_LOG=" + zPath(w.log), "SPARE_FAKEWSL_STATE=" + zPath(w.state),
		"SPARE_FAKEWSL_RELAY=" + relay.ln.Addr().String(), "SPARE_FAKEWSL_IMPORT_GATE=" + zPath(w.gate),
		"SPARE_FAKEWSL_IMPORT_FAIL=" + zPath(w.fail)}
	return w
}

// diag is the stand-ins' record, for a failure's log.
func (w *fakeWSL) diag(relay *wslRelay) func() string {
	return func() string {
		calls, _ := os.ReadFile(w.log)
		ran, _ := json.Marshal(relay.commands())
		return "wsl.exe was called with:\n" + string(calls) + "\nthe relay ran: " + string(ran) +
			"\ntheir standard error:\n" + relay.stderr()
	}
}

// installApp puts spare.exe and a distribution image where the installer
// does (C:\Spare here), and returns spare.exe's path.
func installApp(t *testing.T, prefix, exe string) string {
	t.Helper()
	dir := filepath.Join(prefix, "drive_c", "Spare")
	if err := os.MkdirAll(filepath.Join(dir, "distro"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spare.exe"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	// A stand-in image: a tar archive, as wsl --import checks.
	var img bytes.Buffer
	tw := tar.NewWriter(&img)
	body := []byte("ID=debian\n")
	if err := tw.WriteHeader(&tar.Header{Name: "etc/os-release", Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	if err := os.WriteFile(filepath.Join(dir, "distro", "spare-wsl.tar"), img.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "spare.exe")
}

// wineWithWSL is a Wine prefix on a display of the test's own with
// spare.exe installed and the wsl.exe stand-in relaying to relay.
func wineWithWSL(t *testing.T, relay *wslRelay) (env []string, display, installed string, wsl *fakeWSL) {
	t.Helper()
	exe := windowsApp(t)
	display = testenv.PrivateDisplay(t)
	env = winePrefix(t, display)
	prefix := envValue(env, "WINEPREFIX")
	wsl = installFakeWSL(t, prefix, relay)
	return append(env, wsl.env...), display, installApp(t, prefix, exe), wsl
}

// closeWSLLimits waits for the window that asks to set WSL's memory and
// processors (the app asks before it touches .wslconfig) and closes it
// unanswered: .wslconfig must stay unwritten.
func closeWSLLimits(t *testing.T, a *wineApp) {
	t.Helper()
	a.waitWindow("the window asking to set WSL's memory and processors", app.WSLLimitsTitle)
	if err := closeWindow(a.display, app.WSLLimitsTitle); err != nil {
		t.Fatal(err)
	}
}

// diskFull is what wsl --import says when the disk is full.
const diskFull = "There is not enough space on the disk.\r\nError code: Wsl/Service/RegisterDistro/ERROR_DISK_FULL"

// TestWindowsAppFirstRunUnderWine: spare.exe under Wine with WSL2 and a
// driver present imports Spare's distribution on first run. The first
// import fails (the disk is full): the window says so with the fix and
// Try again (golden testdata/wine_setup_failed.png), and nothing is tried
// again until the owner, having freed space, clicks it. The second import
// runs while the window shows it (golden testdata/wine_firstrun.png);
// the app asks before touching .wslconfig, then shows the real daemon's
// status through `wsl -d Spare -- spare bridge` (golden
// testdata/wine_bridge.png).
func TestWindowsAppFirstRunUnderWine(t *testing.T) {
	testenv.NeedRoot(t)
	// The daemon inside "the distribution": a real spare node.
	sock := testenv.ContainerdSocket(t)
	data := t.TempDir()
	nd := &spareNode{data: data, args: []string{"--data", data, "--containerd", sock, "node", "--always-available", "--no-mdns",
		"--listen", "/ip4/127.0.0.1/tcp/0"}}
	nd.start(t)
	relay := startRelay(t, data, nil)
	env, display, installed, wsl := wineWithWSL(t, relay)
	if err := os.WriteFile(wsl.fail, []byte(diskFull), 0o644); err != nil {
		t.Fatal(err)
	}
	a := runWineApp(t, env, display, wsl.diag(relay), installed)
	closeWSLLimits(t, a)

	// The first import fails: the problem, its fix and Try again.
	failed := a.waitShot("the failed first-run import with Try again", "wine_setup_failed.png", app.HostScreenTitle)
	imports := func() int {
		return len(slices.DeleteFunc(wslCalls(t, wsl.log), func(c []string) bool { return len(c) == 0 || c[0] != "--import" }))
	}
	if n := imports(); n != 1 {
		t.Fatalf("%d imports before Try again, want 1", n)
	}
	if err := os.Remove(wsl.fail); err != nil { // the owner frees space
		t.Fatal(err)
	}
	at, err := primaryButton(failed)
	if err != nil {
		t.Fatal(err)
	}
	if err := clickWindow(display, app.HostScreenTitle, at.X, at.Y); err != nil {
		t.Fatal(err)
	}

	// The second import runs (held at the gate) and the window says so.
	a.waitShot("the first-run import in progress after Try again", "wine_firstrun.png", app.HostScreenTitle)
	if err := os.WriteFile(wsl.gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Then the daemon's own status, read through the bridge.
	a.waitShot("the daemon's status through the bridge", "wine_bridge.png", app.HostScreenTitle)

	calls := wslCalls(t, wsl.log)
	if n := imports(); n != 2 {
		t.Errorf("wsl.exe calls %q: %d imports, want 2 (one failed, one after Try again)", calls, n)
	}
	importAt := slices.IndexFunc(calls, func(c []string) bool { return len(c) > 0 && c[0] == "--import" })
	if importAt < 0 || calls[importAt][1] != wslDistro || !strings.HasSuffix(calls[importAt][3], `\distro\spare-wsl.tar`) ||
		!strings.HasSuffix(calls[importAt][2], `\Spare\wsl`) {
		t.Errorf("wsl.exe calls %q: want --import %s %%LOCALAPPDATA%%\\Spare\\wsl …\\distro\\spare-wsl.tar --version 2", calls, wslDistro)
	}
	if !slices.ContainsFunc(calls[:max(importAt, 0)], func(c []string) bool { return slices.Equal(c, []string{"--list", "--quiet"}) }) {
		t.Errorf("wsl.exe calls %q: want the distributions listed before the import", calls)
	}
	bridge := bridgeArgv("wsl", wslDataDir)[1:]
	if !slices.ContainsFunc(calls[importAt+1:], func(c []string) bool { return slices.Equal(c, bridge) }) {
		t.Errorf("wsl.exe calls %q: want %q after the import", calls, bridge)
	}
	for _, c := range relay.commands() {
		if !slices.Equal(c, bridge[3:]) {
			t.Errorf("the app ran %q in the distribution; want only the bridge (the daemon runs already)", c)
		}
	}
	wslconfig := filepath.Join(envValue(env, "WINEPREFIX"), "drive_c", "users", "root", ".wslconfig")
	if _, err := os.Stat(wslconfig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".wslconfig was written without the owner's yes (%v)", err)
	}
}

// TestWindowsAppStartsDaemonUnderWine: with Spare's distribution there
// and no daemon running in it, spare.exe under Wine in one process (the
// fallback to the tray process; TestWindowsAppTrayUnderWine is the
// default) starts `spare node` in the distribution through wsl.exe (the
// real Linux spare, run by the relay on the test's containerd), once,
// and shows its status through the bridge (golden
// testdata/wine_bridge.png, as when a daemon ran).
func TestWindowsAppStartsDaemonUnderWine(t *testing.T) {
	relay, env, display, installed, wsl := wineWithoutDaemon(t)
	a := runWineApp(t, env, display, wsl.diag(relay), installed, "--one-process")
	closeWSLLimits(t, a)
	a.waitShot("the status of the daemon the app started, through the bridge", "wine_bridge.png", app.HostScreenTitle)
	checkStartedOnce(t, wsl, relay)
}

// wineWithoutDaemon is Wine with spare.exe installed, Spare's
// distribution imported (on an earlier run) and no daemon running in it;
// the relay runs the one the app starts.
func wineWithoutDaemon(t *testing.T) (relay *wslRelay, env []string, display, installed string, wsl *fakeWSL) {
	t.Helper()
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	data := t.TempDir()
	relay = startRelay(t, data, []string{"--data", data, "--containerd", sock, "--log-level", "info", "node", "--always-available", "--no-mdns",
		"--listen", "/ip4/127.0.0.1/tcp/0"})
	env, display, installed, wsl = wineWithWSL(t, relay)
	if err := os.WriteFile(wsl.state, []byte(wslDistro+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return relay, env, display, installed, wsl
}

// checkStartedOnce checks that the app, finding no daemon through the
// bridge, started one in the distribution through wsl.exe, once, and
// reached it through the bridge after.
func checkStartedOnce(t *testing.T, wsl *fakeWSL, relay *wslRelay) {
	t.Helper()
	calls := wslCalls(t, wsl.log)
	daemon := wslDaemonArgv("wsl", wslDataDir)[1:]
	bridge := bridgeArgv("wsl", wslDataDir)[1:]
	if slices.ContainsFunc(calls, func(c []string) bool { return len(c) > 0 && c[0] == "--import" }) {
		t.Errorf("wsl.exe calls %q: an import, with the distribution there", calls)
	}
	first := slices.IndexFunc(calls, func(c []string) bool { return slices.Equal(c, daemon) })
	if first < 0 || !slices.ContainsFunc(calls[:first], func(c []string) bool { return slices.Equal(c, bridge) }) ||
		!slices.ContainsFunc(calls[first+1:], func(c []string) bool { return slices.Equal(c, bridge) }) {
		t.Fatalf("wsl.exe calls %q: want the bridge (no daemon), then %q, then the bridge again", calls, daemon)
	}
	var nodes int
	for _, c := range relay.commands() {
		if slices.Equal(c, daemon[3:]) {
			nodes++
		}
	}
	if nodes != 1 {
		t.Errorf("the app started %d daemons in the distribution, want 1 (relay ran %q)", nodes, relay.commands())
	}
}

// wslCalls reads the stand-in's record of its calls.
func wslCalls(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the wsl.exe stand-in's record: %v", err)
	}
	var calls [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c []string
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("the stand-in's record %q: %v", l, err)
		}
		calls = append(calls, c)
	}
	return calls
}
