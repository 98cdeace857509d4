//go:build linux

package testenv

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Containerd is a containerd of the test's own, which the test may kill
// and start again (SPARE_TEST_CONTAINERD is shared by the whole run and
// must stay up). Its root, state and socket are in a temp directory.
type Containerd struct {
	t      testing.TB
	dir    string
	Socket string
	cmd    *exec.Cmd
}

// PrivateContainerd starts a containerd of the test's own; it and the
// shims it started are stopped, and its mounts undone, when the test ends.
func PrivateContainerd(t testing.TB) *Containerd {
	t.Helper()
	NeedRoot(t)
	NeedCommand(t, "containerd", "containerd")
	dir, err := os.MkdirTemp("", "spare-containerd-")
	if err != nil {
		t.Fatal(err)
	}
	// Traversable, like /run/containerd: a job in a user namespace is not
	// root of the host, and runc mounts its rootfs from below here.
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	c := &Containerd{t: t, dir: dir, Socket: filepath.Join(dir, "containerd.sock")}
	conf := "version = 2\nroot = \"" + dir + "/root\"\nstate = \"" + dir + "/state\"\n" +
		"disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \"" + c.Socket + "\"\n" +
		"[ttrpc]\n  address = \"" + c.Socket + ".ttrpc\"\n[debug]\n  address = \"" + dir + "/debug.sock\"\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.cleanup)
	c.Start()
	return c
}

// Start starts the containerd (again, after Kill) and waits for its socket.
func (c *Containerd) Start() {
	c.t.Helper()
	_ = os.Remove(c.Socket)
	log, err := os.OpenFile(filepath.Join(c.dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	defer log.Close()
	c.cmd = exec.Command("containerd", "--config", filepath.Join(c.dir, "config.toml"))
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		c.t.Fatalf("starting containerd: %v", err)
	}
	WaitFor(c.t, "the private containerd's socket", startupWait, func() bool {
		_, err := os.Stat(c.Socket)
		return err == nil
	})
}

// Kill ends the containerd at once (SIGKILL), as a crash would; the shims
// and the jobs they run stay, as they do then.
func (c *Containerd) Kill() {
	c.t.Helper()
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Kill() // our own child, by its PID
	_ = c.cmd.Wait()
	c.cmd = nil
}

// cleanup kills the containerd, then the shims it started (found by the
// socket in their command line, each by its PID), and undoes the mounts
// left below its directory.
func (c *Containerd) cleanup() {
	c.Kill()
	for _, pid := range c.shims() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if f, err := os.Open("/proc/mounts"); err == nil {
		var mounts []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) > 1 && strings.HasPrefix(fs[1], c.dir+"/") {
				mounts = append(mounts, fs[1])
			}
		}
		f.Close()
		for i := len(mounts) - 1; i >= 0; i-- {
			_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
		}
	}
	_ = os.RemoveAll(c.dir)
}

// shims lists the PIDs of the shims this containerd started.
func (c *Containerd) shims() []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(cmd), "\x00")
		if len(args) > 0 && strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") && strings.Contains(string(cmd), c.Socket) {
			out = append(out, pid)
		}
	}
	return out
}
