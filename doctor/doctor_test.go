package doctor

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sparegpu/spare/internal/testenv"
)

func TestCheckCgroups(t *testing.T) {
	mk := func(paths ...string) string {
		root := t.TempDir()
		for _, p := range paths {
			full := filepath.Join(root, p)
			if strings.HasSuffix(p, "/") {
				os.MkdirAll(full, 0o755)
				continue
			}
			os.MkdirAll(filepath.Dir(full), 0o755)
			os.WriteFile(full, nil, 0o644)
		}
		return root
	}
	cases := []struct {
		name   string
		root   string
		status Status
		says   string
	}{
		{"v2 with freezer", mk("cgroup.controllers", "init.scope/cgroup.freeze"), OK, "cgroup v2 with freezer"},
		{"v2 without freezer", mk("cgroup.controllers"), Fail, "kernel"},
		{"v1 with freezer", mk("freezer/", "memory/"), OK, "cgroup v1 with freezer"},
		{"v1 without freezer", mk("memory/"), Fail, "without the freezer"},
		{"none", filepath.Join(t.TempDir(), "missing"), Fail, "no cgroup filesystem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := checkCgroups(c.root)
			if r.Status != c.status || !strings.Contains(r.Detail, c.says) {
				t.Errorf("got %+v, want %s saying %q", r, c.status, c.says)
			}
			if r.Status == Fail && r.Fix == "" {
				t.Error("a failure without a fix")
			}
		})
	}
}

func TestCheckDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if r := checkDataDir(dir); r.Status != OK {
		t.Fatalf("new data dir: %+v", r)
	}
	os.Chmod(dir, 0o755)
	if r := checkDataDir(dir); r.Status != Warn || !strings.Contains(r.Fix, "chmod 700") {
		t.Errorf("world-readable data dir: %+v, want a warning with chmod 700", r)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if r := checkDataDir(file); r.Status != Fail || r.Fix == "" {
		t.Errorf("data dir that is a file: %+v, want a failure with a fix", r)
	}
}

func TestContainerdMissing(t *testing.T) {
	rs := Run(context.Background(), []Check{{"containerd", true, func(ctx context.Context) Result {
		return checkContainerd(ctx, filepath.Join(t.TempDir(), "no.sock"))
	}}})
	if Healthy(rs) || rs[0].Status != Fail || !strings.Contains(rs[0].Fix, "containerd") {
		t.Errorf("missing socket: %+v, want a required failure with a fix", rs)
	}
	// containerd is installed here (CI installs it): the fix is starting
	// it, a button in the app.
	if a := rs[0].Action; rs[0].Plain == "" || a == nil || !slices.Equal(a.Command(), []string{"pkexec", "systemctl", "start", "containerd"}) {
		t.Errorf("missing socket: plain %q, action %+v; want pkexec systemctl start containerd", rs[0].Plain, a)
	}
}

func TestStandardOnThisMachine(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	rs := Run(context.Background(), Standard(Options{Socket: sock, DataDir: t.TempDir()}))
	for _, r := range rs {
		t.Logf("%-22s %-4s %s", r.Name, r.Status, r.Detail)
	}
	if !Healthy(rs) {
		t.Errorf("this machine runs the tests' jobs, yet doctor says it cannot: %+v", rs)
	}
}
