// Package presence tells whether the owner is at the computer: time since
// the last keyboard or mouse input, screen lock, an imminent suspend, the
// power source and battery charge, and games or other fullscreen programs.
//
// Each operating system has its own backend in a build-tagged file
// (presence_linux.go, presence_windows.go, presence_darwin.go, with
// presence_other.go as the fallback) behind the unexported sensor
// interface; Watch follows whichever the system offers and reports
// changes: returning input as an event where the system sends one (X11's
// SYNC idle alarm, Mutter's idle monitor watches), by polling elsewhere.
// Nothing here knows about jobs: the governor in package node decides.
package presence

import (
	"errors"
	"time"
)

// ErrUnsupported is returned (wrapped, with the reason) when a backend
// cannot run here: no X display, no D-Bus service, another system.
var ErrUnsupported = errors.New("presence backend unsupported")

// Report is one reading of the owner's presence.
type Report struct {
	// At is when the reading was taken.
	At time.Time `json:"at"`
	// Idle is the time since the last input, valid when IdleKnown.
	Idle      time.Duration `json:"idle_ns"`
	IdleKnown bool          `json:"idle_known"`
	// Locked is true while the session's screen is locked.
	Locked bool `json:"locked,omitempty"`
	// Sleeping is true between logind's PrepareForSleep(true) and the resume.
	Sleeping bool `json:"sleeping,omitempty"`
	// Game names the game or exclusive program in use ("" when none): a
	// listed process name, a process under a steamapps directory, or a
	// fullscreen window.
	Game string `json:"game,omitempty"`
	// GamePIDs are the processes of Game, when known, so the governor can
	// take back only the GPU the game uses.
	GamePIDs []uint32 `json:"game_pids,omitempty"`
	// Source names the backends that produced the reading ("x11", "mutter").
	Source string `json:"source,omitempty"`
}

// LastInput returns the moment of the last input (At - Idle).
func (r Report) LastInput() time.Time { return r.At.Add(-r.Idle) }

// Power is the machine's power source.
type Power struct {
	At time.Time `json:"at"`
	// Known is false when the system does not say (desktops without a
	// power_supply class report Known with OnBattery false).
	Known bool `json:"known"`
	// OnBattery is true when no AC adapter is online and a battery discharges.
	OnBattery bool `json:"on_battery"`
	// Charge is the battery level in percent, -1 without a battery.
	Charge int `json:"charge"`
}
