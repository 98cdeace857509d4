package app

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/sparegpu/spare/assets"
	"github.com/sparegpu/spare/localapi"
)

// tray is the system tray icon and menu. It exists only where the desktop
// offers one (a D-Bus session bus with a StatusNotifier host on Linux).
type tray struct {
	desk  desktop.App // nil: no tray here
	menu  *fyne.Menu
	items trayItems
	icon  assets.TrayState
}

type trayItems struct {
	status, today, pause, resume *fyne.MenuItem
	// sensor says the presence sensor cannot see this session's input;
	// it is in the menu only then (a Fyne menu has no hidden entries).
	sensor *fyne.MenuItem
}

// Menu labels, kept here so tests and the D-Bus check read the same words.
const (
	labelPause     = "Pause"
	labelPause1h   = "For 1 hour"
	labelPauseTmrw = "Until tomorrow"
	labelPauseOpen = "Until I resume"
	labelResume    = "Resume"
	labelOpen      = "Open Spare"
	labelQuit      = "Quit"
	// labelNoSensor is the menu's line while the presence sensor cannot
	// see this session's input (View.SensorNote, which the window shows
	// in full with the reasons).
	labelNoSensor = "Cannot see your keyboard and mouse: Open Spare says why"
)

// sensorLine is the tray menu's line for a sensor note: labelNoSensor
// when the sensor cannot see the session's input, "" (no line) when it can.
func sensorLine(note string) string {
	if note == "" {
		return ""
	}
	return labelNoSensor
}

func newTray(fy fyne.App, a *App, s SessionInfo) *tray {
	t := &tray{}
	t.menu, t.items = buildMenu(a)
	if d, ok := fy.(desktop.App); ok && s.TrayOK() {
		t.desk = d
		d.SetSystemTrayMenu(t.menu)
		t.setIcon(assets.Waiting)
	}
	return t
}

func (t *tray) setIcon(s assets.TrayState) {
	r, err := trayResource(s)
	if err != nil {
		fyne.LogError("drawing the tray icon", err)
		return
	}
	t.desk.SetSystemTrayIcon(r)
	t.icon = s
}

// buildMenu makes the tray menu; each item's action is a LocalAPI call or
// a window command.
func buildMenu(a *App) (*fyne.Menu, trayItems) {
	var it trayItems
	it.status = fyne.NewMenuItem("Connecting to Spare…", nil)
	it.status.Disabled = true
	it.today = fyne.NewMenuItem("Earned today: —", nil)
	it.today.Disabled = true
	it.sensor = fyne.NewMenuItem(labelNoSensor, nil)
	it.sensor.Disabled = true
	it.pause = fyne.NewMenuItem(labelPause, nil)
	it.pause.ChildMenu = fyne.NewMenu("",
		fyne.NewMenuItem(labelPause1h, func() { a.pause(localapi.PauseRequest{For: "1h"}) }),
		fyne.NewMenuItem(labelPauseTmrw, func() { a.pause(localapi.PauseRequest{Until: "tomorrow"}) }),
		fyne.NewMenuItem(labelPauseOpen, func() { a.pause(localapi.PauseRequest{}) }),
	)
	it.resume = fyne.NewMenuItem(labelResume, a.resume)
	open := fyne.NewMenuItem(labelOpen, func() { a.ui.show(nil) })
	quit := fyne.NewMenuItem(labelQuit, a.Quit)
	quit.IsQuit = true
	m := fyne.NewMenu("Spare", it.status, it.today, fyne.NewMenuItemSeparator(), it.pause, it.resume,
		fyne.NewMenuItemSeparator(), open, quit)
	return m, it
}

// render updates the menu from the view. Called inside fyne.Do. The
// desktop's copy of the menu is rebuilt only when an entry changed: a
// rebuild renumbers the entries, and a host that read the menu just
// before would send a click nobody answers. So the status line is the
// brief sentence (to the minute), not the window's (to the second).
func (t *tray) render(v View) {
	it := t.items
	changed := it.status.Label != v.Brief || it.today.Label != v.TodayLine() ||
		it.pause.Disabled != !v.CanPause || it.resume.Disabled != !v.CanResume
	it.status.Label = v.Brief
	it.today.Label = v.TodayLine()
	it.pause.Disabled = !v.CanPause
	it.resume.Disabled = !v.CanResume
	if t.showSensor(sensorLine(v.SensorNote)) {
		changed = true
	}
	if t.desk == nil {
		return
	}
	if changed {
		t.menu.Refresh()
	}
	if v.Icon != t.icon {
		t.setIcon(v.Icon)
	}
}

// showSensor puts the sensor line right after the earnings line, or
// takes it out when line is ""; it says whether the menu changed.
func (t *tray) showSensor(line string) bool {
	items := t.menu.Items
	i := slices.Index(items, t.items.sensor)
	switch {
	case line == "" && i >= 0:
		t.menu.Items = slices.Delete(items, i, i+1)
	case line != "" && i < 0:
		t.items.sensor.Label = line
		t.menu.Items = slices.Insert(items, slices.Index(items, t.items.today)+1, t.items.sensor)
	case line != "" && t.items.sensor.Label != line:
		t.items.sensor.Label = line
	default:
		return false
	}
	return true
}

// Menu returns the tray menu (tests read it back).
func (a *App) Menu() *fyne.Menu { return a.tray.menu }

// AppIcon is the application icon as a Fyne resource.
func AppIcon() fyne.Resource {
	n, svg := assets.AppIcon()
	return fyne.NewStaticResource(n, svg)
}
