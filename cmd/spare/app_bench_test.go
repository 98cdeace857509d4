//go:build linux && cgo

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
)

// BenchmarkDesktopApp measures the desktop app's figures under Xvfb, with
// a tray host (the test's StatusNotifierWatcher) on a private session bus
// and a daemon already running, as in a session where Spare starts at
// login:
//
//   - launch-ms: from starting `spare` to its window showing the
//     daemon's sentence (median of SPARE_BENCH_APP_LAUNCHES launches,
//     default 5, after one to warm the page cache);
//   - app-rss-MB, daemon-rss-MB: resident memory after the app has been
//     open and idle for SPARE_BENCH_APP_IDLE (default 1m; the issue's
//     figure is taken with 5m), with the app's split into the Go heap
//     arena, other anonymous memory (C: Mesa's GL, fonts, X) and mapped
//     files (shared libraries).
//
// Each iteration takes the whole measurement, so run it once:
//
//	SPARE_BENCH_APP_IDLE=5m go test -run '^$' -bench DesktopApp -benchtime 1x ./cmd/spare
func BenchmarkDesktopApp(b *testing.B) {
	testenv.NeedRoot(b)
	testenv.ContainerdSocket(b)
	display := testenv.Display(b)
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
	for range b.N {
		benchDesktopApp(b, display, idle, launchN)
	}
}

func benchDesktopApp(b *testing.B, display string, idle time.Duration, launchN int) {
	sock := testenv.ContainerdSocket(b)
	test.NewTempApp(b)
	bus := sessionBus(b)
	runWatcher(b, bus)
	data := b.TempDir()
	daemon := startBenchDaemon(b, data, sock)
	c := localapi.NewClient(data)
	var sentence string
	eventually(b, 60*time.Second, "the daemon is available", func() error {
		s, err := c.Status(context.Background())
		if err == nil && s.State != "Available" {
			err = fmt.Errorf("state %s: %s", s.State, s.Sentence)
		}
		sentence = s.Sentence
		return err
	})
	shown := sentenceMatcher(b, sentence)
	env := appEnv(b, bus)

	var launches []time.Duration
	for i := range launchN + 1 {
		start := time.Now()
		a := startDesktopApp(b, data, sock, env)
		eventually(b, 30*time.Second, "the window shows the sentence", func() error {
			img, err := windowShot(display, "Spare")
			if err == nil && !shown(img) {
				err = fmt.Errorf("%q not drawn yet", sentence)
			}
			return err
		})
		if i > 0 { // the first launch warms the page cache
			launches = append(launches, time.Since(start))
		}
		a.stop(b)
	}
	b.ReportMetric(ms(median(launches)), "launch-ms")

	a := startDesktopApp(b, data, sock, env)
	time.Sleep(idle)
	if a.exited() {
		b.Fatalf("the app exited while idle: %v", a.err)
	}
	app, err := readRSS(a.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	dm, err := readRSS(daemon.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(app.total, "app-rss-MB")
	b.ReportMetric(app.goHeap, "app-goheap-MB")
	b.ReportMetric(app.anon, "app-otheranon-MB")
	b.ReportMetric(app.file, "app-file-MB")
	b.ReportMetric(dm.total, "daemon-rss-MB")
	b.ReportMetric(idle.Seconds(), "idle-s")
	a.stop(b)
}

// startBenchDaemon runs `spare node` for the benchmark, always available
// so that its sentence stays the same, until the benchmark ends.
func startBenchDaemon(b *testing.B, data, sock string) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(spareBin, "node", "--data", data, "--containerd", sock, "--always-available", "--no-mdns")
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

// rss is a process's resident memory in MB, split by kind of mapping.
type rss struct {
	total, goHeap, anon, file float64
}

// Go's heap arenas start at 0xc000000000 on 64-bit Linux.
const goArenaStart, goArenaEnd = 0xc000000000, 0xc100000000

// readRSS sums /proc/PID/smaps by kind: the Go heap arena, other
// anonymous memory (C allocations, thread stacks) and file mappings.
func readRSS(pid int) (rss, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return rss{}, err
	}
	defer f.Close()
	var r rss
	kind := &r.anon
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") { // a mapping's header
			lo, _, _ := strings.Cut(fields[0], "-")
			start, _ := strconv.ParseUint(lo, 16, 64)
			switch {
			case start >= goArenaStart && start < goArenaEnd:
				kind = &r.goHeap
			case len(fields) >= 6 && strings.HasPrefix(fields[5], "/"):
				kind = &r.file
			default:
				kind = &r.anon
			}
			continue
		}
		if fields[0] == "Rss:" && len(fields) >= 2 {
			kb, _ := strconv.ParseFloat(fields[1], 64)
			*kind += kb / 1024
			r.total += kb / 1024
		}
	}
	return r, sc.Err()
}
