//go:build linux && cgo

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
)

// TestDemoWithApp is `make run` on a desktop: the playground with its
// window on a private X server. The window says the idle time is
// shortened; a job from the built-in requester starts once the owner
// stops touching the mouse, freezes when they move it, carries on when
// they stop, and the provider's earnings grow.
func TestDemoWithApp(t *testing.T) {
	testenv.NeedRoot(t)
	sock := testenv.ContainerdSocket(t)
	testenv.Workload(t, "render")
	testenv.Workload(t, "ocr")
	display := testenv.PrivateDisplay(t)
	bus := sessionBus(t)
	runWatcher(t, bus)
	data := t.TempDir()
	prov := filepath.Join(data, "demo", "provider")
	if err := os.MkdirAll(prov, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prov, "app-settings.json"), []byte(`{"onboarded": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	move := func() { testenv.Xdotool(t, display, "mousemove", "--", fmt.Sprint(time.Now().Nanosecond()%600), "100") }
	move()
	a := startGUI(t, prov, appEnv(t, bus, display), "demo", "--data", data, "--containerd", sock,
		"--idle", "3s", "--workloads", os.Getenv("SPARE_WORKLOADS"))
	c := localapi.NewClient(prov)
	ctx := context.Background()
	status := func(want localapi.State) func() error {
		return func() error {
			if a.exited() {
				t.Fatalf("the playground ended: %v", a.err)
			}
			s, err := c.Status(ctx)
			if err == nil && s.State != want {
				err = fmt.Errorf("state %s (%s), want %s", s.State, s.Sentence, want)
			}
			return err
		}
	}

	var st localapi.Status
	testenv.WaitFor(t, "the playground's daemon answers", 60*time.Second, func() error {
		var err error
		st, err = c.Status(ctx)
		return err
	})
	if !strings.Contains(st.Notice, "Playground: work starts after 3s without input") {
		t.Errorf("the window is not told the idle time is shortened: notice %q", st.Notice)
	}
	if s, err := c.Settings(ctx); err != nil || len(s.CommandLine) == 0 {
		t.Errorf("settings %+v, %v: the idle time should be named as the playground's", s, err)
	}

	// The playground's jobs take a second or so: one may end between
	// being seen running and the move, and then there is nothing to
	// freeze. Such a try is repeated.
	var frozen *localapi.Job
	for try := 1; frozen == nil; try++ {
		testenv.WaitFor(t, "a job runs once the mouse is still", 120*time.Second, status(localapi.StateRunning))
		move()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if s, err := c.Status(ctx); err == nil && s.State == localapi.StateFrozen {
				frozen, _ = c.Job(ctx)
				break
			}
		}
		if frozen == nil && try == 5 {
			t.Fatal("no job froze on a mouse move in 5 tries")
		}
	}
	if frozen.State != localapi.JobFrozen || (frozen.Kind != "render" && frozen.Kind != "inference") {
		t.Errorf("frozen job %+v: want its kind and the frozen state", frozen)
	}
	testenv.WaitFor(t, "work carries on when the mouse is still again", 30*time.Second, status(localapi.StateRunning))

	earned := func() localapi.Amount {
		w, err := c.Wallet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return w.Earned
	}
	first := earned()
	testenv.WaitFor(t, "the earnings grow", 120*time.Second, func() error {
		if got := earned(); got <= first {
			return fmt.Errorf("earned %d, was %d units", got, first)
		}
		return nil
	})
	a.stop(t)
	if a.err != nil && !errors.Is(a.err, context.Canceled) {
		t.Errorf("the playground exited with %v", a.err)
	}
}
