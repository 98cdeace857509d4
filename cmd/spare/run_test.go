package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/wallet"
)

// spareBin is the spare binary built once for these tests.
var spareBin string

func TestMain(m *testing.M) {
	// No test reaches the real internet: the nodes it starts get an empty
	// list of public bootstrap peers (p2p.PublicBootstrapEnv).
	os.Setenv("SPARE_P2P_PUBLIC_BOOTSTRAP", "")
	dir, err := os.MkdirTemp("", "spare-bin")
	if err != nil {
		panic(err)
	}
	spareBin = filepath.Join(dir, "spare")
	if out, err := exec.Command("go", "build", "-o", spareBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	removeDeadRoots()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// spare runs the binary against the test containerd with a fresh data dir
// per test.
func spare(t *testing.T, args ...string) cliResult {
	t.Helper()
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	data := dataDir(t)
	cmd := exec.Command(spareBin, append([]string{"--data", data, "--containerd", sock}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, out.String(), errb.String()}
}

// dataDir is one data directory per top-level test, under this test
// process's own root (cliTestRoot; short enough for the daemon's socket,
// left behind for a look after a failure until a later run removes it).
// It starts empty: the first use in a run of the top-level test (each
// -count repetition too) removes what was there. It used to be one fixed
// directory per test name kept across runs, and a test read what an
// earlier run left: a wallet, job directories, the chain preset of a geth
// node long gone (TestDemoOnChain broke so). A test that needs state from
// before makes it itself.
func dataDir(t *testing.T) string {
	t.Helper()
	name := strings.SplitN(t.Name(), "/", 2)[0]
	dir := filepath.Join(cliTestRoot, name)
	v, _ := dataDirFresh.LoadOrStore(name, new(sync.Once))
	var err error
	v.(*sync.Once).Do(func() {
		err = os.RemoveAll(dir)
		if name == t.Name() {
			t.Cleanup(func() { dataDirFresh.Delete(name) })
		}
	})
	if err != nil {
		t.Fatalf("emptying the test's data dir: %v (remove %s by hand; a mount left below it by a killed run: umount it first)", err, dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dataDirFresh holds, per top-level test name, the sync.Once that empties
// its data dir.
var dataDirFresh sync.Map

// cliTestRoot holds this test process's data dirs: two test processes
// (two checkouts tested at once on one machine) neither share nor remove
// each other's.
var cliTestRoot = filepath.Join(os.TempDir(), "spare-cli-test", strconv.Itoa(os.Getpid()))

// removeDeadRoots removes the data dirs of earlier test processes that no
// longer run.
func removeDeadRoots() {
	base := filepath.Dir(cliTestRoot)
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || processRuns(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(base, e.Name()))
	}
}

// processRuns reports whether a process with this pid runs.
func processRuns(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM) // another user's
}

func summary(t *testing.T, r cliResult) runSummary {
	t.Helper()
	var s runSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("--json printed %q: %v (stderr %s)", r.stdout, err, r.stderr)
	}
	return s
}

func TestRunRenderIsReproducible(t *testing.T) {
	img := testenv.Workload(t, "render")
	var digests []string
	for i := range 2 {
		out := filepath.Join(t.TempDir(), "out")
		r := spare(t, "run", "--image", img, "--output", out, "--json")
		if r.code != 0 {
			t.Fatalf("run %d exited %d: %s", i, r.code, r.stderr)
		}
		s := summary(t, r)
		if len(s.Outputs) != 1 || s.Outputs[0].Path != "frame.bmp" {
			t.Fatalf("outputs %+v, want frame.bmp", s.Outputs)
		}
		b, err := os.ReadFile(filepath.Join(out, "frame.bmp"))
		if err != nil || !bytes.HasPrefix(b, []byte("BM")) || int64(len(b)) != s.Outputs[0].Size {
			t.Fatalf("frame.bmp: %d bytes, %v; want a BMP of %d bytes", len(b), err, s.Outputs[0].Size)
		}
		digests = append(digests, s.Outputs[0].SHA256)
	}
	if digests[0] != digests[1] {
		t.Errorf("two renders of one scene differ: %s vs %s", digests[0], digests[1])
	}
}

func TestRunOCRReadsTheLine(t *testing.T) {
	img := testenv.Workload(t, "ocr")
	const text = "The quick brown fox jumps over the lazy dog"
	in := t.TempDir()
	writeTextPNG(t, filepath.Join(in, "line.png"), text)
	out := filepath.Join(t.TempDir(), "out")
	r := spare(t, "run", "--image", img, "--input", filepath.Join(in, "line.png"), "--output", out, "--json")
	if r.code != 0 {
		t.Fatalf("ocr exited %d: %s", r.code, r.stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, "line.txt"))
	if err != nil {
		t.Fatalf("no line.txt: %v (outputs %s)", err, r.stdout)
	}
	if strings.TrimSpace(string(got)) != text {
		t.Errorf("OCR read %q, want %q", got, text)
	}
}

func TestRunExitCodeIsTheJobs(t *testing.T) {
	img := testenv.Workload(t, "probe")
	r := spare(t, "run", "--image", img, "--json", "--", "exit", "3")
	if r.code != 3 || summary(t, r).ExitCode != 3 {
		t.Errorf("exit %d, summary %s; want 3", r.code, r.stdout)
	}
	r = spare(t, "run", "--image", img, "--", "echo", "hello", "world")
	if r.code != 0 || !strings.Contains(r.stdout, `"text":"hello world"`) {
		t.Errorf("echo: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestRunInputsAreReadOnly(t *testing.T) {
	img := testenv.Workload(t, "probe")
	in := filepath.Join(t.TempDir(), "scene.txt")
	os.WriteFile(in, []byte("input bytes"), 0o600)
	r := spare(t, "run", "--image", img, "--input", in, "--", "read", "/input/scene.txt")
	if r.code != 0 || !strings.Contains(r.stdout, `"content":"input bytes"`) {
		t.Errorf("read input: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	r = spare(t, "run", "--image", img, "--input", in, "--", "write", "/input/scene.txt")
	if r.code == 0 || !strings.Contains(r.stdout, "EROFS") {
		t.Errorf("write input: exit %d, %s; want EROFS", r.code, r.stdout)
	}
}

func TestRunTimeout(t *testing.T) {
	img := testenv.Workload(t, "probe")
	start := time.Now()
	r := spare(t, "run", "--image", img, "--timeout", "1s", "--", "sleep", "1m")
	if r.code != exitTimeout || !strings.Contains(r.stderr, "time limit (1s)") {
		t.Errorf("exit %d, stderr %q; want %d naming the limit", r.code, r.stderr, exitTimeout)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("a 1 s limit took %s", d)
	}
}

func TestRunBadInput(t *testing.T) {
	probe := testenv.Workload(t, "probe")
	corrupt := filepath.Join(t.TempDir(), "corrupt.tar")
	os.WriteFile(corrupt, []byte("this is not an image"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no image flag", []string{"run", "--", "true"}, exitUsage, "--image is required"},
		{"missing tarball", []string{"run", "--image", "/nonexistent/job.tar"}, exitFailure, "/nonexistent/job.tar: no such file"},
		{"corrupt tarball", []string{"run", "--image", corrupt}, exitFailure, "bad image archive"},
		{"digest mismatch", []string{"run", "--image", probe, "--digest", "sha256:" + strings.Repeat("0", 64)}, exitFailure, "digest mismatch"},
		{"unknown image", []string{"run", "--image", "spare.local/nothing:1"}, exitFailure, "import its archive first"},
		{"absurd memory", []string{"run", "--image", probe, "--memory", "100T"}, exitFailure, "--memory 100 TiB"},
		{"bad memory syntax", []string{"run", "--image", probe, "--memory", "lots"}, exitUsage, "--memory"},
		{"absurd cpus", []string{"run", "--image", probe, "--cpus", "4096"}, exitFailure, "--cpus 4096"},
		{"no GPU", []string{"run", "--image", probe, "--gpus", "1"}, exitFailure, "no CDI spec lists an NVIDIA GPU"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := spare(t, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.says) {
				t.Errorf("exit %d, stderr %q; want %d saying %q", r.code, r.stderr, c.code, c.says)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 1 {
				t.Errorf("error is %d lines, want one: %q", n+1, r.stderr)
			}
		})
	}
	// Nothing is left behind: no job directories.
	entries, _ := os.ReadDir(filepath.Join(dataDir(t), "jobs"))
	if len(entries) != 0 {
		t.Errorf("%d job directories left", len(entries))
	}
}

func TestRunInterrupted(t *testing.T) {
	testenv.NeedRoot(t)
	img := testenv.Workload(t, "probe")
	sock := testenv.ContainerdSocket(t)
	data := dataDir(t)
	cmd := exec.Command(spareBin, "--data", data, "--containerd", sock, "run", "--image", img, "--", "counter")
	out, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := out.Read(buf); err != nil { // the job printed: it runs
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(out) }()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("interrupted run: %v, want exit 130; stderr:\n%s", err, stderr.String())
	}
	entries, _ := os.ReadDir(filepath.Join(data, "jobs"))
	if len(entries) != 0 {
		t.Errorf("%d job directories left after an interrupt", len(entries))
	}
}

func TestRunKilledLeavesNothingAfterNextStart(t *testing.T) {
	testenv.NeedRoot(t)
	img := testenv.Workload(t, "probe")
	sock := testenv.ContainerdSocket(t)
	ctr := testenv.NeedCommand(t, "ctr", "containerd")
	data := dataDir(t)
	containers := func() string {
		out, err := exec.Command(ctr, "-a", sock, "-n", "spare", "containers", "ls", "-q").Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	cmd := exec.Command(spareBin, "--data", data, "--containerd", sock, "run", "--image", img, "--", "counter")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := out.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill() // SIGKILL: no chance to clean up
	cmd.Wait()
	entries, _ := os.ReadDir(filepath.Join(data, "jobs"))
	if len(entries) != 1 || !strings.Contains(containers(), entries[0].Name()) {
		t.Fatalf("after SIGKILL want the job's container and directory still there; dirs %v, containers %q", entries, containers())
	}
	job := entries[0].Name()
	// Any next start cleans up.
	if r := spare(t, "image", "ls"); r.code != 0 {
		t.Fatalf("image ls: %d %s", r.code, r.stderr)
	}
	if strings.Contains(containers(), job) {
		t.Errorf("container %s survived the next start", job)
	}
	if _, err := os.Stat(filepath.Join(data, "jobs", job)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("job directory survived: %v", err)
	}
}

func TestDemoHeadless(t *testing.T) {
	testenv.Workload(t, "render")
	testenv.Workload(t, "ocr")
	// Twice on one data dir: the wallets keep what earlier runs moved, and
	// the report must count this run's money only.
	var r cliResult
	for run := range 2 {
		r = spare(t, "demo", "--headless", "--jobs", "2", "--workloads", os.Getenv("SPARE_WORKLOADS"))
		if r.code != 0 {
			t.Fatalf("demo run %d exited %d: %s", run, r.code, r.stderr)
		}
	}
	for _, want := range []string{"2 job(s) run, 0 failed", "every unit accounted for", "Since the playground's first run"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report %q lacks %q", r.stdout, want)
		}
	}
	if !strings.Contains(r.stderr, "render job 0: exit 0") || !strings.Contains(r.stderr, `ocr job 1: exit 0`) {
		t.Errorf("job lines missing: %s", r.stderr)
	}
	// The jobs' costs add up to what the report says moved.
	var sum wallet.Amount
	for _, m := range regexp.MustCompile(`job \d+: exit 0, cost ([0-9.]+) `).FindAllStringSubmatch(r.stderr, -1) {
		a, err := wallet.ParseAmount(m[1])
		if err != nil {
			t.Fatal(err)
		}
		sum += a
	}
	m := regexp.MustCompile(`costing ([0-9.]+) .*\nrequester spent ([0-9.]+) .*; provider earned ([0-9.]+) `).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no money line in %q", r.stdout)
	}
	for _, got := range m[1:] {
		if a, err := wallet.ParseAmount(got); err != nil || a != sum || sum <= 0 {
			t.Errorf("report %q: %s, want this run's jobs' cost %s", r.stdout, got, sum)
		}
	}
}
