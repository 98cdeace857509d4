package app

import "fyne.io/fyne/v2"

// Raise shows the window and asks for focus: the tray process's Open
// Spare, when the window process already runs (cmd/spare: on SIGUSR1).
func (a *App) Raise() {
	fyne.Do(func() { a.ui.show(nil) })
}
