//go:build darwin

package autostart

// System is this system's mechanism: a LaunchAgent.
func System() Mechanism { return LaunchAgent{} }
