package app

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestTraySensorLine: the one-process app's tray menu has the sensor line
// right after the earnings line while the sensor cannot see the session's
// input, and not at all otherwise (a Fyne menu cannot hide an entry); it
// is not choosable, and comes and goes as often as the note does.
func TestTraySensorLine(t *testing.T) {
	test.NewTempApp(t)
	tr := &tray{}
	tr.menu, tr.items = buildMenu(&App{})
	labels := func() []string {
		var out []string
		for _, it := range tr.menu.Items {
			if !it.IsSeparator {
				out = append(out, it.Label)
			}
		}
		return out
	}
	well := View{Brief: "Available", EarnedToday: "0"}
	blind := well
	blind.SensorNote = sensorNote(errNoInput{})
	for i, v := range []View{well, blind, blind, well, blind} {
		tr.render(v)
		l := labels()
		if v.SensorNote == "" {
			if len(l) != 6 {
				t.Fatalf("render %d, all well: menu %q, want no sensor line", i, l)
			}
			continue
		}
		if len(l) != 7 || l[2] != labelNoSensor || l[1] != v.TodayLine() {
			t.Fatalf("render %d, no sensor: menu %q, want %q after the earnings line", i, l, labelNoSensor)
		}
		if !tr.items.sensor.Disabled {
			t.Errorf("the sensor line is choosable")
		}
	}
}

type errNoInput struct{}

func (errNoInput) Error() string { return "no MIT-SCREEN-SAVER" }
