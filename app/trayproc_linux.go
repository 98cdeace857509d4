package app

import (
	"log/slog"
	"os"
	"syscall"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"
)

// runTrayLoop shows the tray icon, built by build, while body runs: the
// item lives on the session bus, served by the D-Bus library's own
// goroutines, so body runs here.
func runTrayLoop(build, body func(), _ func()) {
	ready := make(chan struct{})
	start, end := systray.RunWithExternalLoop(func() { build(); close(ready) }, nil)
	start() // exports the item on the session bus and registers it with the host
	<-ready
	body()
	end()
}

// windowProcAttr ends the window process when the tray process dies
// without ending it (killed): a window left alone would show a daemon
// that nothing stops.
func windowProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// holdWindow: Pdeathsig (windowProcAttr) ties the window to the tray.
func holdWindow(*os.Process, *slog.Logger) {}

// raiseWindow asks the running window process to show and focus its
// window (it answers SIGUSR1: cmd/spare's onRaise).
func raiseWindow(p *os.Process) error { return p.Signal(syscall.SIGUSR1) }

// askWindowToClose asks the window process to end (SIGTERM: it quits as
// on its own Quit).
func askWindowToClose(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// notify shows a desktop notification (org.freedesktop.Notifications), as
// the toolkit does for the window app.
func notify(title, body string, log *slog.Logger) {
	conn, err := dbus.SessionBus() // shared with the tray item; not closed
	if err != nil {
		log.Warn("notifying: no session bus", "err", err)
		return
	}
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	call := obj.Call("org.freedesktop.Notifications.Notify", 0, appName, uint32(0), "", title, body,
		[]string{}, map[string]dbus.Variant{}, int32(-1))
	if call.Err != nil {
		log.Warn("notifying", "title", title, "err", call.Err)
	}
}

// appName is the application name notifications carry.
const appName = "Spare"
