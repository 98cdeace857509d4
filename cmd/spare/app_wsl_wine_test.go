//go:build linux && cgo

package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/internal/testenv"
)

// The real Windows app under Wine, on a PC where WSL2 and the NVIDIA
// driver are present: wsl.exe is a stand-in (packaging/windows/wine/
// fakewsl) that answers as WSL does and relays `wsl -d Spare -- CMD` to
// this test, which runs CMD with the real Linux `spare` against a real
// `spare node`. First run imports the distribution while the window
// shows it, then the window shows the daemon's status through the bridge.

// zPath is a Linux path as Wine's programs name it (drive Z: is /).
func zPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// fakeWSL builds the wsl.exe stand-in into the prefix's System32, with
// the files the app's host check looks for (an NVIDIA driver that brings
// CUDA into WSL2), and returns the environment it reads.
func fakeWSL(t *testing.T, prefix, relay string) (env []string, log, gate string) {
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
	log, gate = filepath.Join(dir, "wsl-calls.jsonl"), filepath.Join(dir, "import-gate")
	return []string{"SPARE_FAKEWSL_LOG=" + zPath(log), "SPARE_FAKEWSL_STATE=" + zPath(filepath.Join(dir, "distributions")),
		"SPARE_FAKEWSL_RELAY=" + relay, "SPARE_FAKEWSL_IMPORT_GATE=" + zPath(gate)}, log, gate
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

// bridgeRelay runs, for each `wsl -d Spare -- CMD` the stand-in relays,
// CMD on this machine as the distribution would: `spare` is the test's
// binary and the distribution's data directory is data. It serves the
// bridge only: the daemon runs already, so the app must not start one.
type bridgeRelay struct {
	t    *testing.T
	ln   net.Listener
	data string
	wg   sync.WaitGroup
	mu   sync.Mutex
	ran  [][]string
}

func startRelay(t *testing.T, data string) *bridgeRelay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &bridgeRelay{t: t, ln: ln, data: data}
	r.wg.Add(1)
	go r.accept() // owned by r: ends when the listener closes
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

func (r *bridgeRelay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.serve(c) }() // ends with the connection
	}
}

func (r *bridgeRelay) serve(c net.Conn) {
	defer c.Close()
	in := bufio.NewReader(c)
	line, err := in.ReadBytes('\n')
	var argv []string
	if err == nil {
		err = json.Unmarshal(line, &argv)
	}
	if err != nil {
		r.t.Errorf("relay: the stand-in sent %q: %v", line, err)
		return
	}
	r.mu.Lock()
	r.ran = append(r.ran, argv)
	r.mu.Unlock()
	if !slices.Equal(argv, bridgeArgv("wsl", wslDataDir)[4:]) {
		fmt.Fprintf(c, "relay: only the bridge is served here, not %q\n", argv)
		return
	}
	cmd := exec.Command(spareBin, "bridge", "--data", r.data)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, c, &stderr
	if err := cmd.Run(); err != nil && stderr.Len() > 0 {
		r.t.Logf("relay: spare bridge: %v: %s", err, stderr.Bytes())
	}
}

func (r *bridgeRelay) commands() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ran)
}

// TestWindowsAppFirstRunUnderWine: spare.exe under Wine with WSL2 and a
// driver present imports Spare's distribution on first run, showing it
// (golden testdata/wine_firstrun.png), asks before touching .wslconfig,
// then shows the real daemon's status through `wsl -d Spare -- spare
// bridge` (golden testdata/wine_bridge.png).
func TestWindowsAppFirstRunUnderWine(t *testing.T) {
	testenv.NeedRoot(t)
	exe := windowsApp(t)
	// The daemon inside "the distribution": a real spare node.
	sock := testenv.ContainerdSocket(t)
	data := t.TempDir()
	nd := &spareNode{data: data, args: []string{"--data", data, "--containerd", sock, "node", "--always-available", "--no-mdns",
		"--listen", "/ip4/127.0.0.1/tcp/0"}}
	nd.start(t)
	relay := startRelay(t, data)

	display := testenv.PrivateDisplay(t)
	env := winePrefix(t, display)
	prefix := envValue(env, "WINEPREFIX")
	wslEnv, callLog, gate := fakeWSL(t, prefix, relay.ln.Addr().String())
	env = append(env, wslEnv...)
	installed := installApp(t, prefix, exe)

	out, err := os.Create(filepath.Join(t.TempDir(), "spare.log")) // a file: Wine's helpers would hold a pipe open
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(wineBin(t, "wine64"), installed)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // owned here: ends with the process
	var last *image.RGBA
	shotName := ""
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill() // our own child, by its PID
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			calls, _ := os.ReadFile(callLog)
			t.Logf("spare.exe under Wine said:\n%s\nwsl.exe was called with:\n%s\nthe relay ran: %q", b, calls, relay.commands())
			if last != nil {
				writeFailed(t, shotName, last)
			}
		}
		out.Close()
	})
	alive := func() error {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("spare.exe exited: %v", err)
		default:
			return nil
		}
	}
	waitShot := func(what, name, title string) {
		t.Helper()
		want, err := readPNG(filepath.Join("testdata", name))
		if err != nil {
			t.Fatalf("golden: %v", err)
		}
		shotName = name
		testenv.WaitFor(t, what+" (matching testdata/"+name+"; a failure leaves the last screenshot in testdata/failed/)", 3*time.Minute, func() error {
			if err := alive(); err != nil {
				return err
			}
			s, err := windowShot(display, title)
			if err != nil {
				return err
			}
			last = s
			return goldenDiff(s, want)
		})
	}

	// The app asks before it sets WSL's limits: a window of its own. It
	// is closed unanswered here, and .wslconfig must stay unwritten.
	testenv.WaitFor(t, "the window asking to set WSL's memory and processors", 3*time.Minute, func() error {
		if err := alive(); err != nil {
			return err
		}
		_, err := windowShot(display, app.WSLLimitsTitle)
		return err
	})
	if err := closeWindow(display, app.WSLLimitsTitle); err != nil {
		t.Fatal(err)
	}

	// First run: the import runs (held at the gate) and the window says so.
	waitShot("the first-run import in progress", "wine_firstrun.png", app.HostScreenTitle)
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Then the daemon's own status, read through the bridge.
	waitShot("the daemon's status through the bridge", "wine_bridge.png", app.HostScreenTitle)

	calls := wslCalls(t, callLog)
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
	wslconfig := filepath.Join(prefix, "drive_c", "users", "root", ".wslconfig")
	if _, err := os.Stat(wslconfig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".wslconfig was written without the owner's yes (%v)", err)
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
