package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"github.com/sparegpu/spare/wallet"
)

// spareAt runs the binary with a given data dir and returns its result.
func spareAt(t *testing.T, data string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(spareBin, append([]string{"--data", data, "--containerd", testenv.ContainerdSocket(t)}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return cliResult{ee.ExitCode(), out.String(), errb.String()}
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{0, out.String(), errb.String()}
}

// spent is what a data dir's wallet has paid, in the token's smallest unit.
func spent(t *testing.T, data string) wallet.Amount {
	t.Helper()
	r := spareAt(t, data, "--json", "wallet", "balance")
	var b balanceJSON
	if err := json.Unmarshal([]byte(r.stdout), &b); r.code != 0 || err != nil {
		t.Fatalf("wallet balance exited %d (%v): %s", r.code, err, r.stderr)
	}
	a, err := wallet.ParseAmount(b.Spent)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// earned is what a running provider's status says it earned today.
func earned(t *testing.T, data string) wallet.Amount {
	t.Helper()
	s, err := localapi.NewClient(data).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a, err := wallet.ParseAmount(s.EarnedToday)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func submitResult(t *testing.T, r cliResult) market.SubmitResult {
	t.Helper()
	var res market.SubmitResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("--json printed %q: %v (stderr %s)", r.stdout, err, r.stderr)
	}
	return res
}

// TestSubmitThroughDaemon: with `spare node` running for the requester's
// data dir, `spare submit` hands the job to it; the render's output, the
// result and the money movement match the in-process path's, logs and
// exit codes come through, and an interrupted submit cancels the job in
// the daemon with the receipted work paid.
func TestSubmitThroughDaemon(t *testing.T) {
	boot, provs := startNetwork(t, 1)
	prov := provs[0].data
	// The requester's daemon also provides, at a price no job here pays,
	// so the in-process requester never picks it.
	viaDaemon := startNode(t, boot, "--price", "1").data
	inProcess := t.TempDir()
	render := testenv.Workload(t, "render")

	outD, outP := t.TempDir(), t.TempDir()
	rd := spareAt(t, viaDaemon, "--json", "submit", "--image", render, "--output", outD, "--max-price", "0.01")
	if rd.code != 0 || !strings.Contains(rd.stderr, "the daemon at") {
		t.Fatalf("submit through the daemon exited %d: %s", rd.code, rd.stderr)
	}
	resD := submitResult(t, rd)
	rp := spareAt(t, inProcess, "--json", "submit", "--bootstrap", boot, "--no-mdns", "--image", render,
		"--output", outP, "--max-price", "0.01")
	if rp.code != 0 || strings.Contains(rp.stderr, "the daemon at") {
		t.Fatalf("in-process submit exited %d: %s", rp.code, rp.stderr)
	}
	resP := submitResult(t, rp)
	for _, res := range []market.SubmitResult{resD, resP} {
		if res.ExitCode != 0 || res.Attempts != 1 || res.Units == 0 || len(res.Outputs) != 1 || res.Outputs[0].Path != "frame.bmp" {
			t.Fatalf("result %+v", res)
		}
	}
	if resD.Provider != resP.Provider || resD.Outputs[0].SHA256 != resP.Outputs[0].SHA256 {
		t.Fatalf("through the daemon %+v, in process %+v", resD, resP)
	}
	for _, dir := range []string{filepath.Join(outD, resD.Job), filepath.Join(outP, resP.Job)} {
		b, err := os.ReadFile(filepath.Join(dir, "frame.bmp"))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256Hex(b); sum != resD.Outputs[0].SHA256 {
			t.Fatalf("%s/frame.bmp is %s, the result says %s", dir, sum, resD.Outputs[0].SHA256)
		}
	}
	// Money: each requester paid exactly its result's cost, and the
	// provider earned the sum (once the final vouchers are in).
	if got := spent(t, viaDaemon); got != wallet.Amount(resD.Units) {
		t.Fatalf("through the daemon: spent %s, the result says %d", got, resD.Units)
	}
	if got := spent(t, inProcess); got != wallet.Amount(resP.Units) {
		t.Fatalf("in process: spent %s, the result says %d", got, resP.Units)
	}
	total := wallet.Amount(resD.Units + resP.Units)
	testenv.WaitFor(t, "the provider's earnings", 10*time.Second, func() bool { return earned(t, prov) == total })

	// Logs and inputs stream back; the exit code is the job's.
	probe := testenv.Workload(t, "probe")
	in := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(in, []byte("handed over by the daemon"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := spareAt(t, viaDaemon, "submit", "--image", probe, "--input", in, "--", "read", "/input/note.txt")
	if r.code != 0 || !strings.Contains(r.stdout, "handed over by the daemon") {
		t.Fatalf("read through the daemon: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if r := spareAt(t, viaDaemon, "submit", "--image", probe, "--", "exit", "7"); r.code != 7 {
		t.Fatalf("exit 7 through the daemon: exit %d, stderr %s", r.code, r.stderr)
	}

	// Interrupted: the daemon cancels the job, the provider frees the
	// machine, and the receipted work is paid.
	before := earned(t, prov)
	cmd := exec.Command(spareBin, "--data", viaDaemon, "submit", "--image", probe, "--", "sleep", "2m")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	testenv.WaitFor(t, "a receipt for the running job", 60*time.Second, func() bool { return earned(t, prov) > before })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("an interrupted submit exited 0: %s", errb.String())
	}
	c := localapi.NewClient(prov)
	testenv.WaitFor(t, "the provider to end the cancelled job", 30*time.Second, func() bool {
		s, err := c.Status(context.Background())
		return err == nil && s.Job == "" && s.State == localapi.StateAvailable
	})
	testenv.WaitFor(t, "payments to settle", 10*time.Second, func() bool {
		return earned(t, prov)-total == spent(t, viaDaemon)-wallet.Amount(resD.Units)
	})
	if paid := earned(t, prov) - before; paid <= 0 {
		t.Fatalf("the interrupted job's receipted work was not paid (%s)", paid)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
