//go:build linux && cgo

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/sparegpu/spare/internal/screentext"
	"github.com/sparegpu/spare/internal/testenv"
)

// sensorWarning is how the window's warning begins when the presence
// sensor cannot see the session's input (app.sensorNote); the reasons
// that follow depend on the session.
const sensorWarning = "Spare cannot see your keyboard and mouse in this session"

// sensorMenuLine is the tray menu's line then (app.labelNoSensor),
// hidden while the sensor sees the session's input.
const sensorMenuLine = "Cannot see your keyboard and mouse: Open Spare says why"

// shownNote checks that the window draws s as a warning note (see
// screentext.FindNote).
func shownNote(t testing.TB, display, s string) error {
	t.Helper()
	img, err := windowShot(display, "Spare")
	if err != nil {
		return err
	}
	if ok, f := screentext.FindNote(t, img, s); !ok {
		return fmt.Errorf("the window does not show the note %q (closest match: %.1f%% of its pixels differ)", s, 100*f)
	}
	if ok, _ := screentext.FindNote(t, img, s+" at all"); ok {
		return fmt.Errorf("the window shows %q and also %q: the check cannot tell them apart", s, s+" at all")
	}
	return nil
}

// TestAppTrayPresenceWarning runs the real app in a session whose input
// Spare cannot see: an X server without MIT-SCREEN-SAVER, a session bus
// with no idle monitor, no system bus (no logind). Split into a tray
// process and a window process, the window shows the warning the
// one-process app shows, not only the tray process's log; in both, the
// tray menu says so in a line after the earnings line.
func TestAppTrayPresenceWarning(t *testing.T) {
	display := testenv.PrivateDisplayWith(t, "-extension", "MIT-SCREEN-SAVER")
	test.NewTempApp(t) // the software painter the expected text is drawn with
	bus := sessionBus(t)
	conn, w := runWatcher(t, bus) // a tray host: `spare` is the tray process
	noSystemBus := "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + filepath.Join(t.TempDir(), "no-system-bus")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"tray and window processes", nil},
		{"one process", []string{"--one-process"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			if err := os.WriteFile(filepath.Join(data, "app-settings.json"), []byte(`{"onboarded": true}`), 0o600); err != nil {
				t.Fatal(err)
			}
			// No containerd: the daemon cannot start; the window says so
			// beside the warning.
			args := append(tc.args, "--data", data, "--containerd", filepath.Join(data, "no-containerd.sock"))
			a := startGUI(t, data, append(appEnv(t, bus, display), noSystemBus), args...)
			if tc.args == nil {
				waitWindowProcess(t, a)
			} else if pid := windowProcess(a.cmd.Process.Pid); pid != 0 {
				t.Fatalf("--one-process started a window process (%d)", pid)
			}
			var item trayItem
			select {
			case item = <-w.items:
			case <-a.done:
				t.Fatalf("the app exited before registering a tray item: %v", a.err)
			case <-time.After(30 * time.Second):
				t.Fatal("no StatusNotifierItem registered within 30 s")
			}
			testenv.WaitFor(t, "the tray menu says the sensor cannot see input", 60*time.Second, func() error {
				m, _, err := readMenu(conn, item)
				if err != nil {
					return err
				}
				var labels []string
				for _, it := range m.items() {
					labels = append(labels, it.Label)
				}
				if len(labels) != 7 || labels[2] != sensorMenuLine || !strings.HasPrefix(labels[1], "Earned today: ") || labels[3] != "Pause" {
					return fmt.Errorf("menu entries %q, want the sensor line %q third, after the earnings line", labels, sensorMenuLine)
				}
				if it := m.items()[2]; it.Enabled {
					return fmt.Errorf("the sensor line is choosable: %+v", it)
				}
				return nil
			})
			testenv.WaitFor(t, "the window shows the presence warning", 60*time.Second, func() error {
				if a.exited() {
					return fmt.Errorf("the app exited: %v", a.err)
				}
				return shownNote(t, display, sensorWarning)
			})
		})
	}
}
