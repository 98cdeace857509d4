// Package assets holds Spare's drawn resources: the tray icon for each of
// the app's states and the application icon, as SVG drawn for this
// project. It imports nothing of the GUI toolkit; package app wraps the
// bytes into resources.
package assets

import _ "embed"

// TrayState names a tray icon.
type TrayState string

// The tray's states.
const (
	Waiting TrayState = "waiting" // sharing, nothing to do yet (or waiting for the owner to leave)
	Earning TrayState = "earning" // a job runs
	Paused  TrayState = "paused"  // paused by the owner, or a job frozen while they are here
	Problem TrayState = "problem" // something stops Spare from earning
)

var (
	//go:embed waiting.svg
	waitingSVG []byte
	//go:embed earning.svg
	earningSVG []byte
	//go:embed paused.svg
	pausedSVG []byte
	//go:embed problem.svg
	problemSVG []byte
	//go:embed app.svg
	appSVG []byte
)

// States lists every tray state, in the order above.
var States = []TrayState{Waiting, Earning, Paused, Problem}

// TrayIcon returns the SVG of a tray state's icon and its file name;
// an unknown state gets the problem icon.
func TrayIcon(s TrayState) (name string, svg []byte) {
	switch s {
	case Waiting:
		return "waiting.svg", waitingSVG
	case Earning:
		return "earning.svg", earningSVG
	case Paused:
		return "paused.svg", pausedSVG
	default:
		return "problem.svg", problemSVG
	}
}

// AppIcon returns the application icon's SVG.
func AppIcon() (name string, svg []byte) { return "spare.svg", appSVG }
