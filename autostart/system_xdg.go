//go:build linux || freebsd || openbsd || netbsd || dragonfly

package autostart

// System is this system's mechanism: XDG autostart.
func System() Mechanism { return XDG{} }
