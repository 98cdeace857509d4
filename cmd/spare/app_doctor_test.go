//go:build linux && cgo

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparegpu/spare/app"
)

// TestOnboardingChecks: the first-run screen gets the doctor's real
// checks, a failure with its fix and whether it stops Spare.
func TestOnboardingChecks(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil { // the doctor warns of a data dir others can read
		t.Fatal(err)
	}
	checks := doctorChecks(filepath.Join(dir, "no-containerd.sock"), dir)(context.Background())
	byName := map[string]app.Check{}
	for _, c := range checks {
		byName[c.Name] = c
	}
	if c := byName["data directory"]; !c.OK || c.Warn || c.Detail != dir {
		t.Errorf("data directory: %+v", c)
	}
	if c := byName["containerd"]; c.OK || !c.Required || c.Fix != "sudo systemctl start containerd" {
		t.Errorf("containerd without a socket: %+v", c)
	}
	if c, ok := byName["GPU (NVML, CDI)"]; !ok || c.Required {
		t.Errorf("the GPU check is missing or required: %+v", c)
	}
}
