package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestMountNamespaceMismatch starts a process in a mount namespace of its
// own and has it open the sandbox on the test containerd:
//   - private (what `ip netns exec`, `unshare -m` or PrivateTmp= give):
//     refused with ErrMountNamespace, a reason and the fix;
//   - sharing the work directory's mounts with containerd's namespace: a
//     namespace of its own is not the fault, and nothing is refused;
//   - in containerd's own namespace (this test process): nothing refused.
//
// Before the check, the private case opened the sandbox, and each job
// then failed with "open /output/result.txt: permission denied".
func TestMountNamespaceMismatch(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)

	// In containerd's own namespace; a probe a crash left mounted is
	// taken away.
	work := t.TempDir()
	stale := filepath.Join(work, ".mount-check-123")
	if err := os.Mkdir(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", stale, "tmpfs", 0, "size=4k"); err != nil {
		t.Fatal(err)
	}
	if err := checkMountsVisible(sock, work); err != nil {
		t.Fatalf("in containerd's own mount namespace: %v", err)
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Fatalf("left in the work directory: %v", left)
	}

	t.Run("private", func(t *testing.T) {
		out, err := inOwnMountNamespace(t, sock, t.TempDir(), true)
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		for _, want := range []string{"refused:", ErrMountNamespace.Error(), "does not see a tmpfs", "nsenter -t"} {
			if !strings.Contains(out, want) {
				t.Fatalf("helper said %q; want it to contain %q", out, want)
			}
		}
	})

	t.Run("shared", func(t *testing.T) {
		// A work directory whose mounts propagate (a shared bind mount of
		// itself): the helper's copy is in the same peer group.
		dir := t.TempDir()
		if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
		if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
			t.Fatal(err)
		}
		out, err := inOwnMountNamespace(t, sock, dir, false)
		if err != nil || !strings.HasPrefix(out, "opened") {
			t.Fatalf("helper: %v: %s", err, out)
		}
	})
}

// inOwnMountNamespace runs this test binary in a new mount namespace
// (CLONE_NEWNS; with private, every mount in it made private first, as
// `unshare -m` does) to open a sandbox there; see mountNSHelper.
func inOwnMountNamespace(t *testing.T, sock, workDir string, private bool) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SPARE_HELPER_MOUNTNS="+workDir, fmt.Sprintf("SPARE_HELPER_MOUNTNS_PRIVATE=%t", private),
		"SPARE_TEST_CONTAINERD="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// mountNSHelper is the helper process of inOwnMountNamespace: it prints
// "opened" or "refused: ERROR" and exits.
func mountNSHelper(workDir string) {
	if os.Getenv("SPARE_HELPER_MOUNTNS_PRIVATE") == "true" {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			fmt.Println("making mounts private:", err)
			os.Exit(2)
		}
	}
	sb, err := New(context.Background(), Config{Socket: os.Getenv("SPARE_TEST_CONTAINERD"), WorkDir: workDir, Namespace: "spare-test-mountns"})
	switch {
	case errors.Is(err, ErrMountNamespace):
		fmt.Println("refused:", err)
	case err != nil:
		fmt.Println("failed otherwise:", err)
		os.Exit(2)
	default:
		sb.Close()
		fmt.Println("opened")
	}
	os.Exit(0)
}
