//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// probeResult is one JSON line printed by the probe.
type probeResult map[string]any

func (r probeResult) ok() bool            { b, _ := r["success"].(bool); return b }
func (r probeResult) str(k string) string { s, _ := r[k].(string); return s }
func (r probeResult) num(k string) float64 {
	f, _ := r[k].(float64)
	return f
}

// runProbe runs the probe with args in the sandbox and decodes the last
// JSON line it printed.
func runProbe(t *testing.T, sb *Sandbox, img Image, lim Limits, args ...string) (probeResult, Result) {
	t.Helper()
	var out bytes.Buffer
	res, _, err := sb.Run(context.Background(), JobSpec{Image: img.Digest, Args: args, Limits: lim, Stdout: &out}, "")
	if err != nil {
		t.Fatalf("probe %v: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r probeResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Logf("probe %v printed %q (exit %d, reason %q)", args, out.String(), res.ExitCode, res.Reason)
		return nil, res
	}
	return r, res
}

// listener counts connections made to it.
type listener struct {
	net.Listener
	accepted atomic.Int64
}

func listen(t *testing.T, addr string) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{Listener: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return l
}

// hostAddress returns a non-loopback address of this host.
func hostAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && !ip.IP.IsLoopback() && ip.IP.To4() != nil {
			return ip.IP.String()
		}
	}
	t.Fatal("this host has no non-loopback IPv4 address to test against")
	return ""
}

// TestNo32BitSyscalls checks that a job cannot use the kernel's 32-bit
// system call entry (amd64's INT 0x80). The probe first makes the same
// call on the host: where it works there, a failure in the sandbox must
// be the filter's doing (SIGSYS, or the Go probe's other threads waiting
// for the time limit). A kernel without IA-32 emulation (built without
// it, or booted with ia32_emulation=0) closes that door itself; the job
// must still get nothing through it, and the log says which case ran.
func TestNo32BitSyscalls(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the 32-bit entry probed is amd64's INT 0x80")
	}
	host := filepath.Join(t.TempDir(), "probe")
	if out, err := exec.Command("go", "build", "-o", host, "../workloads/probe").CombinedOutput(); err != nil {
		t.Fatalf("building the probe for the host: %v\n%s", err, out)
	}
	out, err := exec.Command(host, "syscall32").Output()
	ia32 := err == nil && bytes.Contains(out, []byte(`"success":true`))
	if !ia32 {
		t.Logf("this kernel has no IA-32 emulation (the call on the host: %v %s): the kernel itself closes the 32-bit entry", err, bytes.TrimSpace(out))
	}

	sb, img := testSandbox(t)
	r, res := runProbe(t, sb, img, Limits{Timeout: 3 * time.Second}, "syscall32")
	if r.ok() {
		t.Fatalf("the 32-bit call worked in the sandbox: %v", r)
	}
	if res.ExitCode == 0 {
		t.Fatalf("job ended with %+v, want it to fail", res)
	}
	if ia32 && r != nil {
		t.Fatalf("the 32-bit call returned in the sandbox: %v", r)
	}
	if ia32 && res.Reason != ReasonTimeout && res.ExitCode != 128+int(syscall.SIGSYS) {
		t.Fatalf("job ended with %+v, want it killed by seccomp or stopped at its time limit", res)
	}
	t.Logf("32-bit call in the sandbox: no return; job exit %d, reason %q", res.ExitCode, res.Reason)
}

func TestProbeCannotEscape(t *testing.T) {
	sb, img := testSandbox(t)
	loop := listen(t, "127.0.0.1:0")
	other := listen(t, hostAddress(t)+":0")
	secret := filepath.Join(t.TempDir(), "host-secret")
	if err := os.WriteFile(secret, []byte("do not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, r probeResult)
	}{
		{"no connection to host loopback", []string{"connect", loop.Addr().String()}, func(t *testing.T, r probeResult) {
			wantFail(t, r, "ECONNREFUSED") // the job's own loopback has nothing listening
		}},
		{"no route to host address", []string{"connect", other.Addr().String()}, func(t *testing.T, r probeResult) {
			wantFail(t, r, "ENETUNREACH")
		}},
		{"no DNS", []string{"resolve", "example.com"}, func(t *testing.T, r probeResult) { wantFail(t, r, "") }},
		{"no host files", []string{"read", secret}, func(t *testing.T, r probeResult) { wantFail(t, r, "ENOENT") }},
		{"no host processes", []string{"ps"}, func(t *testing.T, r probeResult) {
			procs, _ := r["procs"].([]any)
			if len(procs) != 1 {
				t.Errorf("job sees %d processes, want only itself: %v", len(procs), procs)
			}
		}},
		{"no mount", []string{"mount"}, func(t *testing.T, r probeResult) { wantFail(t, r, "EPERM") }},
		// EPERM from seccomp; ENOSYS where the kernel has no module support.
		{"no kernel modules", []string{"modprobe"}, func(t *testing.T, r probeResult) { wantFail(t, r, "") }},
		{"no ptrace", []string{"ptrace", "1"}, func(t *testing.T, r probeResult) { wantFail(t, r, "EPERM") }},
		{"no device nodes", []string{"mknod", "/tmp/dev"}, func(t *testing.T, r probeResult) { wantFail(t, r, "EPERM") }},
		{"setuid does not make root", []string{"setuid-exec", "/usr/local/bin/suid-id"}, func(t *testing.T, r probeResult) {
			if _, ran := r["euid"]; !ran || r.num("euid") != JobUID {
				t.Errorf("setuid-root binary reported %v, want it to run with euid %d", r, JobUID)
			}
		}},
		{"runs unprivileged", []string{"id"}, func(t *testing.T, r probeResult) {
			if r.num("euid") != JobUID || r.str("cap_eff") != "0000000000000000" || r.str("no_new_privs") != "1" || r.str("seccomp") != "2" {
				t.Errorf("identity %v, want uid %d, no capabilities, no_new_privs, seccomp filter", r, JobUID)
			}
		}},
		{"own user namespace", []string{"read", "/proc/self/uid_map"}, func(t *testing.T, r probeResult) {
			testenv.Need(t, sb.userns, "user namespaces", "a kernel with user.max_user_namespaces > 0")
			if f := strings.Fields(r.str("content")); len(f) != 3 || f[0] != "0" || f[1] != strconv.Itoa(UserNSBase) || f[2] != strconv.Itoa(UserNSSize) {
				t.Errorf("uid_map %q, want 0 %d %d", r.str("content"), UserNSBase, UserNSSize)
			}
		}},
		{"root is read-only", []string{"write", "/probe-was-here"}, func(t *testing.T, r probeResult) { wantFail(t, r, "EROFS") }},
		{"/tmp is writable", []string{"write", "/tmp/x"}, func(t *testing.T, r probeResult) { wantOK(t, r) }},
		{"/output is writable", []string{"write", "/output/x"}, func(t *testing.T, r probeResult) { wantOK(t, r) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, res := runProbe(t, sb, img, Limits{Timeout: 30 * time.Second}, c.args...)
			if r == nil {
				t.Fatalf("probe printed no result (exit %d)", res.ExitCode)
			}
			c.check(t, r)
		})
	}
	if n := loop.accepted.Load() + other.accepted.Load(); n != 0 {
		t.Errorf("host listeners accepted %d connections from jobs", n)
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "do not read" {
		t.Errorf("host file changed: %q, %v", b, err)
	}
	assertNoContainers(t, sb)
}

func wantFail(t *testing.T, r probeResult, errno string) {
	t.Helper()
	if r.ok() {
		t.Fatalf("%s succeeded inside the sandbox: %v", r.str("op"), r)
	}
	if errno != "" && r.str("errno") != errno {
		t.Errorf("%s failed with %q (%s), want %s", r.str("op"), r.str("errno"), r.str("error"), errno)
	}
}

func wantOK(t *testing.T, r probeResult) {
	t.Helper()
	if !r.ok() {
		t.Fatalf("%s failed: %v", r.str("op"), r)
	}
}

// assertNoContainers checks that every job was removed.
func assertNoContainers(t *testing.T, sb *Sandbox) {
	t.Helper()
	cs, err := sb.client.Containers(sb.ns(context.Background()), managedFilter)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Errorf("%d containers left behind", len(cs))
	}
	entries, _ := os.ReadDir(sb.workDir)
	if len(entries) != 0 {
		t.Errorf("%d job directories left behind", len(entries))
	}
}

func TestLimitsHold(t *testing.T) {
	sb, img := testSandbox(t)
	t.Run("pids", func(t *testing.T) {
		r, _ := runProbe(t, sb, img, Limits{Pids: 32, Timeout: time.Minute}, "forkbomb", "500")
		if r == nil {
			t.Fatal("probe printed nothing")
		}
		if started := r.num("started"); started >= 32 || started == 0 {
			t.Errorf("fork bomb started %v processes under a pids limit of 32", started)
		}
	})
	t.Run("memory", func(t *testing.T) {
		_, res := runProbe(t, sb, img, Limits{MemoryBytes: 64 << 20, Timeout: time.Minute}, "balloon", "256")
		if res.Reason != ReasonMemory || res.ExitCode == 0 {
			t.Errorf("balloon past the memory limit: exit %d, reason %q, want killed with reason %q", res.ExitCode, res.Reason, ReasonMemory)
		}
		if err := res.Err(Limits{MemoryBytes: 64 << 20}); err == nil || !strings.Contains(err.Error(), "64 MiB") {
			t.Errorf("error %v does not name the limit", err)
		}
	})
	t.Run("output cap", func(t *testing.T) {
		r, res := runProbe(t, sb, img, Limits{OutputBytes: 8 << 20, Timeout: time.Minute}, "fill", "/output/fill", "64")
		if r == nil {
			t.Fatal("probe printed nothing")
		}
		if written := r.num("bytes"); written > 8<<20 || written < 7<<20 {
			t.Errorf("job wrote %v bytes into an 8 MiB output cap", written)
		}
		if res.Reason != ReasonOutputFull {
			t.Errorf("reason %q, want %q", res.Reason, ReasonOutputFull)
		}
	})
	t.Run("sparse output", func(t *testing.T) {
		// A 2 GiB file that holds no data fits an 8 MiB tmpfs; copied out
		// naively it takes 2 GiB of the host's disk.
		const capBytes = 8 << 20
		dst := t.TempDir()
		var out bytes.Buffer
		res, outs, err := sb.Run(context.Background(), JobSpec{Image: img.Digest, Args: []string{"sparse", "/output/big", "2048"},
			Limits: Limits{OutputBytes: capBytes, Timeout: time.Minute}, Stdout: &out}, dst)
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 0 || !strings.Contains(out.String(), `"success":true`) {
			t.Fatalf("the probe could not make its sparse file: exit %d, %s", res.ExitCode, out.String())
		}
		if res.Reason != ReasonOutputFull {
			t.Errorf("reason %q, want %q: the apparent size is over the cap", res.Reason, ReasonOutputFull)
		}
		if len(outs) != 0 {
			t.Errorf("outputs %+v: nothing past the cap is copied", outs)
		}
		var onDisk int64
		_ = filepath.WalkDir(dst, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					onDisk += fi.Size()
				}
			}
			return nil
		})
		if onDisk > capBytes {
			t.Errorf("%d bytes reached the host's disk past an 8 MiB output cap", onDisk)
		}
	})
	t.Run("time", func(t *testing.T) {
		start := time.Now()
		_, res := runProbe(t, sb, img, Limits{Timeout: time.Second}, "sleep", "60s")
		if res.Reason != ReasonTimeout {
			t.Errorf("reason %q, want %q", res.Reason, ReasonTimeout)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("a 1 s job took %s to end", d)
		}
	})
	t.Run("log cap", func(t *testing.T) {
		var out bytes.Buffer
		res, _, err := sb.Run(context.Background(), JobSpec{Image: img.Digest, Args: []string{"echo", strings.Repeat("x", 4000)}, Limits: Limits{LogBytes: 1024}, Stdout: &out}, "")
		if err != nil {
			t.Fatal(err)
		}
		if out.Len() != 1024 || res.LogDropped == 0 {
			t.Errorf("kept %d bytes of logs (dropped %d) under a 1 KiB cap", out.Len(), res.LogDropped)
		}
	})
	assertNoContainers(t, sb)
}
