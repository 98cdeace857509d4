package app

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/godbus/dbus/v5"
)

// SessionInfo says what the desktop session offers the app.
type SessionInfo struct {
	// Bus is false when no D-Bus session bus answers (Linux only).
	Bus bool
	// TrayHost is false when nothing shows StatusNotifier tray icons.
	TrayHost bool
	// Why explains a missing part in words the window shows.
	Why string
}

// TrayOK reports whether a tray icon can be shown.
func (s SessionInfo) TrayOK() bool { return s.Bus && s.TrayHost }

// busEnv names the session bus's address.
const busEnv = "DBUS_SESSION_BUS_ADDRESS"

// NoSessionBus is the bus address PrepareSessionBus sets where the session
// has none: no D-Bus library can dial it, so none launches a bus instead.
const NoSessionBus = "disabled:"

// PrepareSessionBus settles the session bus's address before the toolkit
// starts, so that nothing in the process launches a bus of its own. With
// DBUS_SESSION_BUS_ADDRESS unset, D-Bus libraries (the toolkit's tray and
// settings portal among them) run dbus-launch, and every start of the app
// would leave a dbus-daemon behind. A systemd user session's bus at
// $XDG_RUNTIME_DIR/bus is named (the tray then works there too);
// otherwise the address is NoSessionBus. Linux only; the daemon the app
// starts inherits the address.
func PrepareSessionBus() {
	if runtime.GOOS != "linux" || os.Getenv(busEnv) != "" {
		return
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		p := filepath.Join(dir, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Setenv(busEnv, "unix:path="+p)
			return
		}
	}
	os.Setenv(busEnv, NoSessionBus)
}

// ProbeSession looks for a D-Bus session bus and a tray host. Other systems
// than Linux always have a tray.
func ProbeSession() SessionInfo {
	if runtime.GOOS != "linux" {
		return SessionInfo{Bus: true, TrayHost: true}
	}
	if addr := os.Getenv(busEnv); addr == "" || addr == NoSessionBus {
		return SessionInfo{Why: "No D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): there is no tray icon, so Spare lives in this window. Closing it quits Spare."}
	}
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return SessionInfo{Why: "The D-Bus session bus cannot be reached (" + err.Error() + "): there is no tray icon, so Spare lives in this window."}
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return SessionInfo{Why: "The D-Bus session bus refused Spare (" + err.Error() + "): there is no tray icon, so Spare lives in this window."}
	}
	if err := conn.Hello(); err != nil {
		return SessionInfo{Why: "The D-Bus session bus did not answer (" + err.Error() + "): there is no tray icon."}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var has bool
	call := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher")
	if call.Err != nil || call.Store(&has) != nil || !has {
		return SessionInfo{Bus: true, Why: "This desktop shows no tray icons (no StatusNotifierWatcher on the session bus): Spare lives in this window. GNOME needs the AppIndicator extension."}
	}
	return SessionInfo{Bus: true, TrayHost: true}
}
