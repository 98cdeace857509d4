package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// startDaemon starts a long-running spare process and stops it (SIGTERM,
// then wait) when the test ends.
func startDaemon(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(spareBin, args...)
	cmd.Stderr = os.Stderr
	if !testing.Verbose() {
		cmd.Stderr = nil
	}
	return cmd
}

// inNetns is cmd run in network namespace ns, not yet started. It
// enters the network namespace only (nsenter --net): `ip netns exec`
// would also give it a mount namespace of its own, whose mounts
// containerd cannot see (spare node refuses to start there).
func inNetns(cmd *exec.Cmd, ns string) *exec.Cmd {
	c := exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns, "--"}, cmd.Args...)...)
	c.Args[3] = cmd.Path
	c.Env, c.Dir, c.Stdin, c.Stdout, c.Stderr = cmd.Env, cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr
	return c
}

// network starts `spare bootstrap` and n `spare node` providers on
// loopback and returns the bootstrap address.
func network(t testing.TB, n int) string {
	boot, _ := startNetwork(t, n)
	return boot
}

// spareNode is one `spare node` process of a test network.
type spareNode struct {
	data   string
	peerID string
	args   []string
	cmd    *exec.Cmd
	// netns, when set, is the network namespace the node runs in.
	netns string
}

// startNetwork starts `spare bootstrap` and n `spare node` providers on
// loopback; it returns the bootstrap address and the nodes, each
// Available.
func startNetwork(t testing.TB, n int) (string, []*spareNode) {
	t.Helper()
	testenv.NeedRoot(t)
	boot := startDaemon(t, "--data", t.TempDir(), "bootstrap", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0")
	out, err := boot.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := boot.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = boot.Process.Signal(syscall.SIGTERM); _ = boot.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "/p2p/") {
		t.Fatalf("bootstrap printed %q: %v", line, err)
	}
	addr := strings.TrimSpace(line)
	var nodes []*spareNode
	for range n {
		nodes = append(nodes, startNode(t, addr))
	}
	return addr, nodes
}

// startNode starts `spare node` with extra flags on a fresh data dir that
// joins the network through boot, and waits until it is Available.
func startNode(t testing.TB, boot string, extra ...string) *spareNode {
	t.Helper()
	sock := testenv.ContainerdSocket(t)
	data := t.TempDir()
	nd := &spareNode{data: data, args: append([]string{"--data", data, "--containerd", sock, "node", "--always-available", "--no-mdns", "--ious-from-strangers",
		"--listen", "/ip4/127.0.0.1/tcp/0", "--bootstrap", boot, "--interval", "1s", "--price", "0.0001"}, extra...)}
	nd.start(t)
	return nd
}

// start runs the node and waits until it is Available; the test's end
// stops it (SIGTERM, then wait) unless it was killed.
func (nd *spareNode) start(t testing.TB) {
	t.Helper()
	nd.cmd = startDaemon(t, nd.args...)
	if nd.netns != "" {
		nd.cmd = inNetns(nd.cmd, nd.netns)
	}
	if err := nd.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := nd.cmd
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	c := localapi.NewClient(nd.data)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := waitForDaemon(ctx, c); err != nil {
		t.Fatalf("node did not start: %v", err)
	}
	for {
		s, err := c.Status(ctx)
		if err == nil && s.State == localapi.StateAvailable && s.PeerID != "" {
			nd.peerID = s.PeerID
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("node not available: %+v %v", s, err)
		case <-time.After(100 * time.Millisecond): // poll interval
		}
	}
}

// TestSubmitRenderAcrossProcesses: a bootstrap node, two providers and
// `spare submit` as separate processes on loopback render the reference
// scene (the output matches its digest) and read a line of text with the
// OCR workload (the text that was drawn comes back).
func TestSubmitRenderAcrossProcesses(t *testing.T) {
	boot := network(t, 2)
	t.Run("ocr", func(t *testing.T) {
		const text = "Spare reads this line across processes"
		in := filepath.Join(t.TempDir(), "line.png")
		writeTextPNG(t, in, text)
		out := t.TempDir()
		r := spare(t, "submit", "--bootstrap", boot, "--no-mdns", "--image", testenv.Workload(t, "ocr"),
			"--input", in, "--output", out, "--json", "--max-price", "0.01")
		if r.code != 0 {
			t.Fatalf("submit exited %d: %s", r.code, r.stderr)
		}
		var res market.SubmitResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.OutputDir != filepath.Join(out, res.Job) {
			t.Fatalf("--json printed %q (%v): want output_dir %s/<job>", r.stdout, err, out)
		}
		got, err := os.ReadFile(filepath.Join(res.OutputDir, "line.txt"))
		if err != nil {
			t.Fatalf("no line.txt: %v (result %s)", err, r.stdout)
		}
		if strings.TrimSpace(string(got)) != text {
			t.Errorf("OCR over the network read %q, want %q", got, text)
		}
	})
	out := t.TempDir()
	r := spare(t, "submit", "--bootstrap", boot, "--no-mdns", "--image", testenv.Workload(t, "render"),
		"--output", out, "--json", "--max-price", "0.01")
	if r.code != 0 {
		t.Fatalf("submit exited %d: %s", r.code, r.stderr)
	}
	var res market.SubmitResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("--json printed %q: %v", r.stdout, err)
	}
	if res.ExitCode != 0 || res.Provider == "" || res.Attempts != 1 || len(res.Outputs) != 1 || res.Outputs[0].Path != "frame.bmp" {
		t.Fatalf("result %+v", res)
	}
	if want := filepath.Join(out, res.Job); res.OutputDir != want || res.Outputs[0].File != filepath.Join(want, "frame.bmp") {
		t.Fatalf("output_dir %q, file %q; want them in %s", res.OutputDir, res.Outputs[0].File, want)
	}
	b, err := os.ReadFile(filepath.Join(out, res.Job, "frame.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != res.Outputs[0].SHA256 {
		t.Fatal("frame.bmp does not match its digest")
	}
	if !strings.HasPrefix(string(b), "BM") {
		t.Fatal("frame.bmp is not a BMP")
	}
}

// TestSubmitNoProvider exits 3 with a reason when nobody can run the job.
func TestSubmitNoProvider(t *testing.T) {
	testenv.NeedRoot(t)
	r := spare(t, "submit", "--no-mdns", "--discovery", "2s", "--image", testenv.Workload(t, "probe"), "--", "exit", "0")
	if r.code != exitNoProvider || !strings.Contains(r.stderr, "no provider") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
}

// BenchmarkSubmitRoundTrip times the round trip of a trivial job on
// loopback (bootstrap node, one provider) four ways, interleaved: `spare
// submit` through the requester's daemon, `spare submit --no-daemon` (a
// fresh process unlocks the wallet and joins the network), `spare run`
// and `ctr run --rm` of the same image, in a rotating order. Ratios are
// against `ctr run`.
func BenchmarkSubmitRoundTrip(b *testing.B) {
	boot := network(b, 1)
	sock := testenv.ContainerdSocket(b)
	ctr := testenv.NeedCommand(b, "ctr", "containerd")
	img := testenv.Workload(b, "probe")
	// The requester's daemon offers work at a price this job does not
	// pay, so neither requester picks it.
	viaDaemon := startNode(b, boot, "--price", "1").data
	inProcess, runData := b.TempDir(), b.TempDir()
	const ns = "spare-bench-submit"
	daemonArgs := []string{"--data", viaDaemon, "submit", "--image", img, "--", "exit", "0"}
	inProcArgs := []string{"--data", inProcess, "--containerd", sock, "submit", "--no-daemon", "--bootstrap", boot,
		"--no-mdns", "--image", img, "--", "exit", "0"}
	runArgs := []string{"--data", runData, "--containerd", sock, "run", "--image", "spare.local/probe:1", "--", "exit", "0"}
	timeCmd(b, spareBin, "--data", runData, "--containerd", sock, "image", "import", img)
	timeCmd(b, ctr, "-a", sock, "-n", ns, "images", "import", img)
	timeCmd(b, spareBin, daemonArgs...) // warm: the provider fetches and imports the image once
	timeCmd(b, spareBin, inProcArgs...)
	var daemonT, inProcT, runT, ctrT []time.Duration
	b.ResetTimer()
	for i := range b.N {
		ways := []func(){
			func() { daemonT = append(daemonT, timeCmd(b, spareBin, daemonArgs...)) },
			func() { inProcT = append(inProcT, timeCmd(b, spareBin, inProcArgs...)) },
			func() { runT = append(runT, timeCmd(b, spareBin, runArgs...)) },
			func() {
				ctrT = append(ctrT, timeCmd(b, ctr, "-a", sock, "-n", ns, "run", "--rm", "spare.local/probe:1", fmt.Sprintf("bench-%d", i), "/probe", "exit", "0"))
			},
		}
		for k := range ways { // each way follows each other in turn
			ways[(i+k)%len(ways)]()
		}
	}
	b.StopTimer()
	dm, pm, rm, cm := median(daemonT), median(inProcT), median(runT), median(ctrT)
	b.ReportMetric(ms(dm), "submit-daemon-ms")
	b.ReportMetric(ms(pm), "submit-inproc-ms")
	b.ReportMetric(ms(rm), "spare-run-ms")
	b.ReportMetric(ms(cm), "ctr-run-ms")
	b.ReportMetric(float64(dm)/float64(cm), "daemon/ctr")
	b.ReportMetric(float64(dm)/float64(rm), "daemon/run")
	b.ReportMetric(float64(pm)/float64(cm), "inproc/ctr")
}

// waitForDaemon polls the socket until the daemon answers.
func waitForDaemon(ctx context.Context, c *localapi.Client) error {
	for {
		if _, err := c.Status(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
