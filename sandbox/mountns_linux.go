package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// probePattern names checkMountsVisible's probe directories in the work
// directory.
const probePattern = ".mount-check-*"

// ErrMountNamespace means containerd does not see the mounts this process
// makes: each job's size-capped /output tmpfs would be mounted where the
// job never sees it. The error's text says why and what to do.
var ErrMountNamespace = errors.New("containerd cannot see the mounts Spare makes")

// checkMountsVisible mounts a small tmpfs in workDir, as each job's
// /output is mounted, and looks for it in the mount table of the process
// that listens on containerd's socket. A process started in a mount
// namespace of its own that does not propagate to containerd's (`ip netns
// exec`, `unshare -m`, a service manager's PrivateTmp= or ProtectSystem=,
// a container that reaches the host's containerd) finds it missing.
//
// Nothing is checked, and nil returned, where the answer cannot be had
// without guessing: this process may not mount (it then mounts nothing
// for jobs either), or containerd's process is not visible from here
// (another PID namespace).
func checkMountsVisible(socket, workDir string) error {
	pid, err := listenerPID(socket)
	if err != nil || pid <= 0 {
		return nil
	}
	// A check cut short (a crash between mount and unmount) left its
	// probe behind: take it away first.
	if stale, _ := filepath.Glob(filepath.Join(workDir, probePattern)); len(stale) > 0 {
		for _, p := range stale {
			_ = unmount(p)
			_ = os.Remove(p)
		}
	}
	probe, err := os.MkdirTemp(workDir, probePattern)
	if err != nil {
		return fmt.Errorf("checking mounts: %w", err)
	}
	defer os.Remove(probe)
	err = unix.Mount("tmpfs", probe, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=4k,mode=0700")
	if errors.Is(err, unix.EPERM) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking mounts: mounting a tmpfs at %s: %w", probe, err)
	}
	defer unmount(probe)
	var st unix.Stat_t
	if err := unix.Stat(probe, &st); err != nil {
		return fmt.Errorf("checking mounts: %w", err)
	}
	seen, err := hasMount(fmt.Sprintf("/proc/%d/mountinfo", pid), unix.Major(st.Dev), unix.Minor(st.Dev))
	if err != nil {
		return nil // containerd's mount table is not readable from here
	}
	if !seen {
		return fmt.Errorf("%w: containerd (pid %d, socket %s) does not see a tmpfs this process mounted at %s. "+
			"This process runs in a mount namespace of its own that does not pass its mounts on to containerd's "+
			"(started through `ip netns exec` or `unshare -m`, by a service manager with PrivateTmp=, ProtectSystem= "+
			"or the like, or in a container), so every job's output directory would be empty to the job and its "+
			"writes refused. Start Spare where containerd runs: as the spare-node service as packaged, from an "+
			"ordinary shell, or inside containerd's namespace with `nsenter -t %d -m -- spare …`",
			ErrMountNamespace, pid, socket, probe, pid)
	}
	return nil
}

// listenerPID is the process that listens on a unix socket, as the kernel
// recorded it (SO_PEERCRED); 0 when that process is in a PID namespace
// this one cannot see.
func listenerPID(socket string) (int, error) {
	c, err := net.Dial("unix", socket)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, cerr
	}
	return int(cred.Pid), nil
}

// hasMount reports whether a mountinfo file lists a mount of the device
// major:minor (the third field): a tmpfs keeps its device number in every
// mount namespace its mount propagates to.
func hasMount(mountinfo string, major, minor uint32) (bool, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return false, err
	}
	defer f.Close()
	want := fmt.Sprintf("%d:%d", major, minor)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 2 && fields[2] == want {
			return true, nil
		}
	}
	return false, sc.Err()
}
