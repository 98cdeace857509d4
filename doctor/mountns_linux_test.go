package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestContainerdMountNamespace: `spare doctor` run in a mount namespace
// that does not propagate to containerd's fails the containerd check,
// saying why and how to fix it (the helper below runs the check there).
func TestContainerdMountNamespace(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	if r := checkContainerd(context.Background(), sock); r.Status != OK {
		t.Fatalf("in containerd's namespace: %+v", r)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SPARE_HELPER_DOCTOR_MOUNTNS="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	for _, want := range []string{"status=" + string(Fail), "does not see a tmpfs", "fix=run Spare in containerd's mount namespace"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("doctor in a private mount namespace said:\n%s\nwant %q in it", out, want)
		}
	}
}

// doctorMountNSHelper makes every mount of its new namespace private (as
// `unshare -m` does) and prints the containerd check's result.
func doctorMountNSHelper(sock string) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		fmt.Println("making mounts private:", err)
		os.Exit(2)
	}
	r := checkContainerd(context.Background(), sock)
	fmt.Printf("status=%s\ndetail=%s\nfix=%s\n", r.Status, r.Detail, r.Fix)
	os.Exit(0)
}

func TestMain(m *testing.M) {
	if sock := os.Getenv("SPARE_HELPER_DOCTOR_MOUNTNS"); sock != "" {
		doctorMountNSHelper(sock)
	}
	os.Exit(m.Run())
}
