//go:build linux && cgo

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"golang.org/x/sys/unix"

	"github.com/sparegpu/spare/internal/screentext"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
)

// BenchmarkDesktopApp measures the desktop app's figures under Xvfb, with
// a tray host (the test's StatusNotifierWatcher) on a private session bus
// and a daemon already running, as in a session where Spare starts at
// login:
//
//   - launch-ms: from starting `spare` to its window showing the
//     daemon's sentence, and launch-window-ms to the window being mapped
//     (medians of SPARE_BENCH_APP_LAUNCHES launches, default 5, after one
//     that warms the page cache and the font index);
//   - app-rss-MB, daemon-rss-MB: resident memory after the app has been
//     open and idle for SPARE_BENCH_APP_IDLE (default 1m; the issue's
//     figure is taken with 5m), split into anonymous memory and mapped
//     files, with the app's proportional share (PSS) and its live Go heap
//     after the last collection (from GODEBUG=gctrace=1);
//     The app is two processes while its window is open (the tray
//     process and the window process): app-rss-MB and its parts are
//     their sums, app-window-rss-MB the window's alone; the live heap is
//     the last collection's of either (both write gctrace to one log);
//   - app-tray-rss-MB: the app's resident memory once its window has
//     closed to the tray (the window process has ended) and the app has
//     settled, and beside it app-tray-rss-1proc-MB, the same with the
//     window and the tray in one process (--one-process, as before):
//     medians of SPARE_BENCH_APP_TRAY_RUNS runs each (default 3),
//     interleaved.
//
// Each iteration takes the whole measurement, so run it once:
//
//	SPARE_BENCH_APP_IDLE=5m go test -run '^$' -bench DesktopApp -benchtime 1x ./cmd/spare
func BenchmarkDesktopApp(b *testing.B) {
	testenv.NeedRoot(b)
	testenv.ContainerdSocket(b)
	display := testenv.PrivateDisplay(b)
	idle := time.Minute
	if v := os.Getenv("SPARE_BENCH_APP_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			b.Fatalf("SPARE_BENCH_APP_IDLE=%q: want a duration such as 5m", v)
		}
		idle = d
	}
	launchN := 5
	if v := os.Getenv("SPARE_BENCH_APP_LAUNCHES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("SPARE_BENCH_APP_LAUNCHES=%q: want a count of at least 1", v)
		}
		launchN = n
	}
	trayRuns := 3
	if v := os.Getenv("SPARE_BENCH_APP_TRAY_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("SPARE_BENCH_APP_TRAY_RUNS=%q: want a count of at least 1", v)
		}
		trayRuns = n
	}
	for range b.N {
		benchDesktopApp(b, display, idle, launchN, trayRuns)
	}
}

func benchDesktopApp(b *testing.B, display string, idle time.Duration, launchN, trayRuns int) {
	sock := testenv.ContainerdSocket(b)
	test.NewTempApp(b)
	bus := sessionBus(b)
	runWatcher(b, bus)
	data := b.TempDir()
	evictPageCache(b, spareBin)
	daemon := startBenchDaemon(b, data, sock)
	c := localapi.NewClient(data)
	var sentence string
	testenv.WaitFor(b, "the daemon is available", 60*time.Second, func() error {
		s, err := c.Status(context.Background())
		if err == nil && s.State != localapi.StateAvailable {
			err = fmt.Errorf("state %s: %s", s.State, s.Sentence)
		}
		sentence = s.Sentence
		return err
	})
	shown := screentext.SentenceMatcher(b, sentence)
	env := appEnv(b, bus, display)

	var mapped, drawn []time.Duration
	for i := range launchN + 1 {
		start := time.Now()
		a := startDesktopApp(b, data, sock, env)
		var m time.Duration
		for {
			if a.exited() {
				b.Fatalf("the app exited: %v", a.err)
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("the window did not show %q within 30 s", sentence)
			}
			img, err := windowShot(display, "Spare")
			if err == nil && m == 0 {
				m = time.Since(start)
			}
			if err == nil && shown(img) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if i > 0 { // the first launch warms the page cache and font index
			mapped = append(mapped, m)
			drawn = append(drawn, time.Since(start))
		}
		a.stop(b)
	}
	b.ReportMetric(ms(median(mapped)), "launch-window-ms")
	b.ReportMetric(ms(median(drawn)), "launch-ms")

	a := startDesktopApp(b, data, sock, append(env, "GODEBUG=gctrace=1"))
	win := waitWindowProcess(b, a)
	time.Sleep(idle)
	if a.exited() {
		b.Fatalf("the app exited while idle: %v", a.err)
	}
	trayProc, err := readRSS(a.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	window, err := readRSS(win)
	if err != nil {
		b.Fatalf("the window process: %v", err)
	}
	opened := rss{total: trayProc.total + window.total, anon: trayProc.anon + window.anon,
		file: trayProc.file + window.file, pss: trayProc.pss + window.pss}
	dm, err := readRSS(daemon.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	heap, err := lastGoHeap(a.log)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("window process's largest mappings:\n%s", topMappings(win, 8))
	b.Logf("tray process's largest mappings:\n%s", topMappings(a.cmd.Process.Pid, 5))
	b.Logf("daemon's largest mappings:\n%s", topMappings(daemon.Process.Pid, 5))
	b.ReportMetric(opened.total, "app-rss-MB")
	b.ReportMetric(window.total, "app-window-rss-MB")
	b.ReportMetric(opened.anon, "app-anon-MB")
	b.ReportMetric(opened.file, "app-file-MB")
	b.ReportMetric(opened.pss, "app-pss-MB")
	b.ReportMetric(heap, "app-golive-MB")
	b.ReportMetric(dm.total, "daemon-rss-MB")
	b.ReportMetric(dm.anon, "daemon-anon-MB")
	b.ReportMetric(idle.Seconds(), "idle-s")
	a.stop(b)

	// Closed to the tray (the window's close button), once the app has
	// settled again: what it holds while the owner is away; as one
	// process (before) and as the tray process alone (now).
	benchTrayOnly(b, data, sock, display, env, trayRuns)
}

// startBenchDaemon runs `spare node` for the benchmark, always available
// so that its sentence stays the same, until the benchmark ends.
func startBenchDaemon(b *testing.B, data, sock string) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(spareBin, "node", "--data", data, "--containerd", sock, "--always-available", "--no-mdns", "--ious-from-strangers")
	log := filepath.Join(b.TempDir(), "daemon.log")
	f, err := os.Create(log)
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }() // owned here: ends with the process
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		f.Close()
		if b.Failed() {
			out, _ := os.ReadFile(log)
			b.Logf("daemon log:\n%s", out)
		}
	})
	return cmd
}

// evictPageCache drops a freshly built binary's pages from the page
// cache, so that it starts as an installed binary does after boot: read
// in by faults and readahead. Pages the linker has just written sit in
// the cache as large folios, and a process maps a whole folio on its
// first touch: the same binary then shows 15-25 MB more resident memory
// than it ever will on an owner's machine.
func evictPageCache(b *testing.B, path string) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatalf("evicting %s from the page cache: %v", path, err)
	}
}

// topMappings lists a process's n largest resident mappings, summed by
// file ("[anon]" for anonymous memory), one "MB name" per line.
func topMappings(pid, n int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return err.Error()
	}
	byName := map[string]float64{}
	name := ""
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			name = "[anon]"
			if len(f) >= 6 {
				name = f[5]
			}
		case len(f) >= 2 && f[0] == "Rss:":
			kb, _ := strconv.ParseFloat(f[1], 64)
			byName[name] += kb / 1024
		}
	}
	names := make([]string, 0, len(byName))
	for k := range byName {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return byName[names[i]] > byName[names[j]] })
	var out strings.Builder
	for i, k := range names {
		if i == n {
			break
		}
		fmt.Fprintf(&out, "  %6.1f MB %s\n", byName[k], k)
	}
	return out.String()
}

// rss is a process's resident memory in MB: in all, anonymous (Go's
// heap, C allocations such as Mesa's, thread stacks), mapped files (the
// spare binary, shared with the daemon, and libraries) and the
// proportional share (shared pages divided among their users).
type rss struct {
	total, anon, file, pss float64
}

// readRSS reads /proc/PID/smaps_rollup.
func readRSS(pid int) (rss, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return rss{}, err
	}
	var r rss
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "Rss:":
			r.total = kb / 1024
		case "Anonymous:":
			r.anon = kb / 1024
		case "Pss:":
			r.pss = kb / 1024
		}
	}
	r.file = r.total - r.anon
	return r, nil
}

// lastGoHeap reads the live heap after the last collection from a
// GODEBUG=gctrace=1 log ("gc 7 @25.1s 0%: …, 57->57->28 MB, 67 MB goal, …").
func lastGoHeap(log string) (float64, error) {
	b, err := os.ReadFile(log)
	if err != nil {
		return 0, err
	}
	live := -1.0
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		for _, part := range strings.Split(line, ",") {
			part = strings.TrimSpace(part)
			if arrows := strings.Split(strings.TrimSuffix(part, " MB"), "->"); len(arrows) == 3 {
				if v, err := strconv.ParseFloat(arrows[2], 64); err == nil {
					live = v
				}
			}
		}
	}
	if live < 0 {
		return 0, fmt.Errorf("no gctrace line in %s", log)
	}
	return live, nil
}
