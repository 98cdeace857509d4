package app

// autostarter turns "start at login" on and off with the system's own
// mechanism: XDG autostart on Linux, per-OS stubs elsewhere.
type autostarter interface {
	set(on bool, exe string) error
}

// Autostart applies the start-at-login setting for the executable exe.
func Autostart(on bool, exe string) error { return sysAutostart.set(on, exe) }
