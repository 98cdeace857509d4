// Package testenv tells tests which real components this machine offers
// (containerd, an X server, a D-Bus daemon, …). Under CI (CI set to a
// non-empty value) a missing component fails the test: CI installs every
// component, so a skip there would hide a broken set-up. Elsewhere the test
// is skipped with the reason, so `go test ./...` works on a bare laptop.
package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// InCI reports whether the tests run under CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") != "" }

// Need stops the test when ok is false: it fails under CI and skips
// elsewhere, naming the component and how to provide it.
func Need(t testing.TB, ok bool, component, howto string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("%s is required under CI but missing: %s", component, howto)
	}
	t.Skipf("%s is missing (%s); skipping", component, howto)
}

// NeedCommand requires an executable on PATH and returns its path.
func NeedCommand(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Need(t, err == nil, name, "apt-get install "+pkg)
	return p
}

// NeedRoot requires running as root (containerd, namespaces, iptables).
func NeedRoot(t testing.TB) {
	t.Helper()
	Need(t, os.Geteuid() == 0, "root", "run the tests as root (make test does)")
}

// ContainerdSocket returns the socket of the private containerd the test
// run started (SPARE_TEST_CONTAINERD, set by `make test`).
func ContainerdSocket(t testing.TB) string {
	t.Helper()
	s := os.Getenv("SPARE_TEST_CONTAINERD")
	ok := false
	if s != "" {
		if _, err := os.Stat(s); err == nil {
			ok = true
		}
	}
	Need(t, ok, "a containerd for tests", "run `make test`, which starts a private containerd and sets SPARE_TEST_CONTAINERD")
	return s
}

// Workload returns the path of a reference workload image archive built
// by `make workloads` (SPARE_WORKLOADS names the directory).
func Workload(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("SPARE_WORKLOADS")
	p := dir + "/" + name + ".tar"
	_, err := os.Stat(p)
	Need(t, dir != "" && err == nil, "the "+name+" workload image", "run `make workloads` and set SPARE_WORKLOADS (make test does both)")
	return p
}

// Int reads a positive whole number from the environment variable name
// (a test's trial count, a benchmark's length), or def.
func Int(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
