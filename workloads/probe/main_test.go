//go:build linux

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMain lets the tests run the probe as a command: the test binary acts
// as the probe when PROBE_AS_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("PROBE_AS_MAIN") != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func probe(t *testing.T, args ...string) (map[string]any, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PROBE_AS_MAIN=1")
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("probe %v printed %q: %v", args, out, err)
	}
	return r, code
}

func TestOps(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		args    []string
		success bool
		code    int
		field   string
		want    any
	}{
		{"echo", []string{"echo", "a", "b"}, true, 0, "text", "a b"},
		{"exit", []string{"exit", "3"}, true, 3, "code", 3.0},
		{"fill", []string{"fill", filepath.Join(dir, "f"), "2"}, true, 0, "bytes", float64(2 << 20)},
		{"write missing dir", []string{"write", filepath.Join(dir, "no/such")}, false, 1, "errno", "ENOENT"},
		{"read", []string{"read", filepath.Join(dir, "f")}, true, 0, "bytes", float64(2 << 20)},
		{"forkbomb", []string{"forkbomb", "5"}, true, 0, "started", 5.0},
		{"balloon", []string{"balloon", "8"}, true, 0, "allocated_mb", 8.0},
		{"connect refused", []string{"connect", "127.0.0.1:1"}, false, 1, "errno", "ECONNREFUSED"},
		{"ptrace missing", []string{"ptrace", "999999999"}, false, 1, "errno", "ESRCH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, code := probe(t, tc.args...)
			if r["op"] != tc.args[0] || r["success"] != tc.success || code != tc.code || r[tc.field] != tc.want {
				t.Fatalf("probe %v = %v (exit %d); want success %v, exit %d, %s = %v",
					tc.args, r, code, tc.success, tc.code, tc.field, tc.want)
			}
		})
	}
}

func TestSuidIDName(t *testing.T) {
	link := filepath.Join(t.TempDir(), "suid-id")
	if err := os.Symlink(os.Args[0], link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link)
	cmd.Env = append(os.Environ(), "PROBE_AS_MAIN=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(out, &r); err != nil || r["op"] != "id" || r["euid"] != float64(os.Geteuid()) {
		t.Fatalf("suid-id printed %q (%v)", out, err)
	}
}
