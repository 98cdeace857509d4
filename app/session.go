package app

import (
	"context"
	"os"
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

// ProbeSession looks for a D-Bus session bus and a tray host. Other systems
// than Linux always have a tray.
func ProbeSession() SessionInfo {
	if runtime.GOOS != "linux" {
		return SessionInfo{Bus: true, TrayHost: true}
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
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
