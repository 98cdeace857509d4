package packaging

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bootedRoot is the WSL image booted in namespaces of its own.
type bootedRoot struct {
	cmd    *exec.Cmd // unshare, the parent of the image's PID 1
	exited chan error
	root   string
}

// bootWSLRoot boots the extracted image at root: unshare gives it a
// mount and PID namespace of its own and mounts its /proc; /sys, /dev,
// /run and /tmp come as WSL gives them; then, as the namespace's root,
// its PID 1 (a
// stand-in for systemd) starts containerd by the unit's command and
// then the daemon as node says, and stops both on SIGTERM. Their logs
// are in the image's /var/log.
func bootWSLRoot(t *testing.T, unshare, root string, containerd, node []string) *bootedRoot {
	t.Helper()
	inner := "#!/bin/sh\n# PID 1 of the booted image in TestWSLRootBoots, in systemd's place.\n" +
		"trap 'kill -TERM $node 2>/dev/null; wait $node; kill -TERM $ctd 2>/dev/null; wait $ctd; exit 0' TERM INT\n" +
		strings.Join(containerd, " ") + " >/var/log/containerd.log 2>&1 &\nctd=$!\n" +
		"n=0\nuntil [ -S /run/containerd/containerd.sock ]; do\n" +
		"\tkill -0 $ctd 2>/dev/null || { echo 'containerd exited' >&2; exit 1; }\n" +
		"\tn=$((n+1)); [ $n -le 600 ] || { echo 'containerd made no socket in 60 s' >&2; exit 1; }\n\tsleep 0.1\ndone\n" +
		"SPARE_P2P_PUBLIC_BOOTSTRAP= " + strings.Join(node, " ") + " >/var/log/spare-node.log 2>&1 &\nnode=$!\n" +
		"wait $node\necho \"spare node exited with status $?\" >&2\n"
	if err := os.WriteFile(filepath.Join(root, "wsl-test-boot"), []byte(inner), 0o755); err != nil {
		t.Fatal(err)
	}
	// The image becomes the root of the mount namespace (pivot_root, as
	// WSL gives a distribution its own): in a mere chroot the kernel
	// refuses the user namespaces runc makes for jobs.
	outer := `set -e
mount --rbind "$1" "$1"
mount --rbind /sys "$1/sys"
mount --rbind /dev "$1/dev"
mount -t tmpfs -o mode=0755 tmpfs "$1/run"
mount -t tmpfs -o mode=1777 tmpfs "$1/tmp"
cd "$1"
mkdir -p .host
pivot_root . .host
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root chroot . /bin/sh -c 'umount -l /.host && rmdir /.host && exec /wsl-test-boot'`
	b := &bootedRoot{root: root, exited: make(chan error, 1)}
	b.cmd = exec.Command(unshare, "--mount", "--pid", "--fork", "--kill-child", "--mount-proc="+filepath.Join(root, "proc"),
		"/bin/sh", "-c", outer, "boot", root)
	log, err := os.Create(filepath.Join(t.TempDir(), "boot.log"))
	if err != nil {
		t.Fatal(err)
	}
	b.cmd.Stdout, b.cmd.Stderr = log, log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.exited <- b.cmd.Wait() }() // ends with the namespace's PID 1
	t.Cleanup(func() {
		select {
		case <-b.exited:
		default:
			_ = b.cmd.Process.Kill() // our own child; --kill-child ends the namespace with it
			<-b.exited
		}
		out, _ := os.ReadFile(log.Name())
		if t.Failed() && len(out) > 0 {
			t.Logf("boot:\n%s", tail(out, 2000))
		}
	})
	return b
}

// stop sends SIGTERM to the image's PID 1 (the daemon drains, then
// containerd stops) and waits for the namespace to end.
func (b *bootedRoot) stop(t *testing.T) {
	t.Helper()
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", b.cmd.Process.Pid, b.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("finding the image's PID 1: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(children)))
	if err != nil {
		t.Fatalf("the image's PID 1: %q: %v", children, err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-b.exited:
		b.exited <- err
		if err != nil {
			t.Errorf("the image's PID 1 ended with %v after SIGTERM, want a clean stop\n%s", err, b.logs())
		}
	case <-time.After(2 * time.Minute):
		t.Errorf("the image did not stop within 2 minutes of SIGTERM\n%s", b.logs())
	}
}

// logs returns the tails of the daemon's and containerd's logs.
func (b *bootedRoot) logs() string {
	var s strings.Builder
	for _, f := range []string{"var/log/spare-node.log", "var/log/containerd.log"} {
		out, _ := os.ReadFile(filepath.Join(b.root, f))
		fmt.Fprintf(&s, "--- %s:\n%s\n", f, tail(out, 3000))
	}
	return s.String()
}
