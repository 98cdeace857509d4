package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writerRounds is how many changes each writer process makes.
const writerRounds = 200

// SettingsWriter is settingsWriter for TestMain (package app_test).
var SettingsWriter = settingsWriter

// settingsWriter is a process of the app that writes the settings file
// (TestMain runs it in a child): once its stdin says go, it counts to
// writerRounds in a key of its own, one locked update each; halfway it
// marks onboarding done ("tray" leaves it) and claims the first
// earnings, printing "told" when the claim is its.
func settingsWriter(dir, name string) int {
	if _, err := bufio.NewReader(os.Stdin).ReadByte(); err != nil {
		fmt.Fprintln(os.Stderr, "waiting for the start:", err)
		return 2
	}
	key := "count_" + name
	for i := range writerRounds {
		err := updateSettingsFile(dir, func(raw map[string]json.RawMessage) error {
			var n int
			if b, ok := raw[key]; ok {
				if err := json.Unmarshal(b, &n); err != nil {
					return err
				}
			}
			if n != i {
				return fmt.Errorf("%s reads %d after %d changes of its own: a change was lost", key, n, i)
			}
			raw[key] = json.RawMessage(fmt.Sprint(n + 1))
			return nil
		})
		if err == nil && i == writerRounds/2 {
			if name != "tray" {
				_, err = UpdateSettings(dir, func(s *Settings) { s.Onboarded = true })
			}
			if err == nil {
				var told bool
				if told, err = claimFirstEarnings(dir); err == nil && told {
					fmt.Println("told")
				}
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// TestSettingsTwoWriters runs two processes of the app (as the tray
// process and the window process are) changing the settings file at the
// same time: no change either makes is lost, and the first earnings are
// claimed by exactly one. Run it under load (stress-ng --cpu 2).
func TestSettingsTwoWriters(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte(`{"kept": "by both"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	type writer struct {
		cmd   *exec.Cmd
		start io.WriteCloser
		out   strings.Builder
	}
	var ws []*writer
	for _, name := range []string{"tray", "window"} {
		w := &writer{cmd: exec.Command(os.Args[0], "-test.run=^$")}
		w.cmd.Env = append(os.Environ(), "SPARE_HELPER_SETTINGS_DIR="+dir, "SPARE_HELPER_SETTINGS_NAME="+name)
		w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.out
		var err error
		if w.start, err = w.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := w.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	for _, w := range ws { // both start now
		if _, err := w.start.Write([]byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	told := 0
	for _, w := range ws {
		err := w.cmd.Wait()
		if err != nil {
			t.Errorf("%v: %v\n%s", w.cmd.Env[len(w.cmd.Env)-1], err, w.out.String())
		}
		told += strings.Count(w.out.String(), "told")
	}
	b, err := os.ReadFile(filepath.Join(dir, SettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("the file is not JSON: %v\n%s", err, b)
	}
	for _, key := range []string{"count_tray", "count_window"} {
		if got[key] != float64(writerRounds) {
			t.Errorf("%s is %v, want %d: changes were lost", key, got[key], writerRounds)
		}
	}
	if got["onboarded"] != true || got["first_earnings_shown"] != true || got["kept"] != "by both" {
		t.Errorf("the file reads %s: want onboarded and first_earnings_shown true, kept kept", b)
	}
	if told != 1 {
		t.Errorf("the first earnings were claimed %d times, want once", told)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{settingsLock, SettingsFile}; !slices.Equal(names, want) {
		t.Errorf("the data directory holds %q, want %q (no temporary files left)", names, want)
	}
}
