//go:build linux && cgo

package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/doctor"
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

// TestFixButtons: a doctor fix that is one command becomes the
// onboarding's button, which runs it with no input and says why it
// failed; through pkexec, a dismissed prompt and a refusal are said in
// words (a stand-in pkexec on PATH plays the system's prompt).
func TestFixButtons(t *testing.T) {
	ctx := context.Background()
	plain := appCheck(doctor.Result{Name: "containerd", Status: doctor.Fail, Required: true, Plain: "not running"})
	if plain.Action != nil || plain.Plain != "not running" {
		t.Fatalf("a check without an action: %+v", plain)
	}
	run := func(argv ...string) error {
		t.Helper()
		c := appCheck(doctor.Result{Name: "x", Status: doctor.Fail, Action: &doctor.Action{Label: "Fix it", Argv: argv}})
		if c.Action == nil || c.Action.Label != "Fix it" {
			t.Fatalf("no button for %v: %+v", argv, c)
		}
		return c.Action.Run(ctx)
	}
	if err := run("true"); err != nil {
		t.Errorf("a fix that works: %v", err)
	}
	if err := run("sh", "-c", "read line; echo no such unit >&2; exit 3"); err == nil ||
		!strings.Contains(err.Error(), "exit status 3: no such unit") {
		t.Errorf("a fix that fails (and gets no input): %v", err)
	}
	bin := t.TempDir()
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	for code, want := range map[int]string{126: "permission was not given", 127: "did not allow it"} {
		script := "#!/bin/sh\nexit " + strconv.Itoa(code) + "\n"
		if err := os.WriteFile(filepath.Join(bin, "pkexec"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		c := appCheck(doctor.Result{Name: "containerd", Status: doctor.Fail,
			Action: &doctor.Action{Label: "Start", Argv: []string{"systemctl", "start", "containerd"}, Root: true}})
		if err := c.Action.Run(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("pkexec exiting %d: %v, want %q", code, err, want)
		}
	}
}
