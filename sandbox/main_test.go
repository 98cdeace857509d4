//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/imagebuild"
	"github.com/sparegpu/spare/internal/testenv"
)

// probeArchive builds the probe image once per test binary: the static
// probe program at /probe plus a setuid-root copy at
// /usr/local/bin/suid-id, which the no-new-privileges test tries to use.
var probeArchive = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "spare-probe-image")
	if err != nil {
		return "", err
	}
	root := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(filepath.Join(root, "usr/local/bin"), 0o755); err != nil {
		return "", err
	}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(root, "probe"), "../workloads/probe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building probe: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(root, "probe"))
	if err != nil {
		return "", err
	}
	suid := filepath.Join(root, "usr/local/bin/suid-id")
	if err := os.WriteFile(suid, b, 0o755); err != nil {
		return "", err
	}
	if err := os.Chmod(suid, 0o4755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "probe.tar")
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = imagebuild.Build(context.Background(), imagebuild.Config{
		Rootfs: root, Ref: "spare.local/probe:test", Entrypoint: []string{"/probe"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, f)
	return out, err
})

// testSandbox connects to the test containerd with a private work
// directory and imports the probe image.
func testSandbox(t testing.TB) (*Sandbox, Image) {
	t.Helper()
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	ns := "spare-test-" + strings.ToLower(strings.NewReplacer("/", "-", " ", "-", "_", "-").Replace(t.Name()))
	if len(ns) > 60 {
		ns = ns[:60]
	}
	ns += "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) // unique per run: a reused containerd keeps old state
	sb, err := New(context.Background(), Config{Socket: sock, WorkDir: t.TempDir(), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	archive, err := probeArchive()
	if err != nil {
		t.Fatal(err)
	}
	img, err := sb.Import(context.Background(), archive, ImportOptions{Names: true})
	if err != nil {
		t.Fatal(err)
	}
	return sb, img
}

func TestMain(m *testing.M) {
	if os.Getenv("SPARE_HELPER_WORKDIR") != "" {
		helperRun()
	}
	if dir := os.Getenv("SPARE_HELPER_MOUNTNS"); dir != "" {
		mountNSHelper(dir)
	}
	code := m.Run()
	if dir, err := probeArchive(); err == nil {
		os.RemoveAll(filepath.Dir(dir))
	}
	os.Exit(code)
}
