//go:build !windows

package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOwnedDaemonStop: the app stops the daemon it started through the
// LocalAPI when the daemon takes the request (no signal is sent), by
// SIGTERM when it does not, and then runs the command that follows a
// stop (Windows: `wsl --terminate Spare`) either way; that command's
// failure is reported. The stand-in daemon is a shell that exits when
// its stop file appears (what POST /v1/stop does) and records a SIGTERM.
func TestOwnedDaemonStop(t *testing.T) {
	const daemon = `trap 'echo TERM > "$0/signalled"; exit 0' TERM; touch "$0/up"; while [ ! -e "$0/stop" ]; do sleep 0.05; done`
	log := slog.New(slog.DiscardHandler)
	start := func(t *testing.T, after ...string) (*ownedDaemon, string) {
		dir := t.TempDir()
		for i, a := range after {
			after[i] = strings.ReplaceAll(a, "DIR", dir)
		}
		d, err := startDaemon([]string{"sh", "-c", daemon, dir}, after, log)
		if err != nil {
			t.Fatal(err)
		}
		// The trap is set once it has said it is up.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(dir, "up")); err == nil {
				break
			}
			if time.Now().After(deadline) || !d.running() {
				t.Fatal("the stand-in daemon never came up")
			}
		}
		return d, dir
	}
	exists := func(dir, name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}

	t.Run("asked through the LocalAPI", func(t *testing.T) {
		d, dir := start(t, "touch", "DIR/after")
		asked := 0
		ask := func(context.Context) error { asked++; return os.WriteFile(filepath.Join(dir, "stop"), nil, 0o600) }
		if err := d.stop(ask, time.Minute); err != nil {
			t.Fatal(err)
		}
		if asked != 1 || exists(dir, "signalled") || d.running() {
			t.Errorf("asked %d times, signalled %v, running %v: want asked once, no signal, ended", asked, exists(dir, "signalled"), d.running())
		}
		if !exists(dir, "after") {
			t.Error("the command after the stop did not run")
		}
	})
	t.Run("the request refused, a signal", func(t *testing.T) {
		d, dir := start(t, "touch", "DIR/after")
		ask := func(context.Context) error { return errors.New("Stopping the daemon needs an owner") }
		if err := d.stop(ask, time.Minute); err != nil {
			t.Fatal(err)
		}
		if !exists(dir, "signalled") || d.running() {
			t.Errorf("signalled %v, running %v: want SIGTERM and the end", exists(dir, "signalled"), d.running())
		}
		if !exists(dir, "after") {
			t.Error("the command after the stop did not run")
		}
	})
	t.Run("the command after fails", func(t *testing.T) {
		d, _ := start(t, "sh", "-c", "echo There is no distribution with the supplied name. >&2; exit 1")
		err := d.stop(nil, time.Minute)
		if err == nil || !strings.Contains(err.Error(), "There is no distribution with the supplied name.") {
			t.Errorf("stop: %v; want the command's failure in its words", err)
		}
	})
}
