package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// HostScreenTitle is the window title of the screen that explains what
// the PC lacks.
const HostScreenTitle = "Spare"

// ShowHostProblems opens the window that says why Spare cannot run on
// this PC yet and how to fix each thing. check reads the PC again (Check
// again); the app quits when the window closes or Quit is chosen. Run the
// Fyne event loop afterwards.
func ShowHostProblems(fy fyne.App, problems []HostProblem, check func() []HostProblem) fyne.Window {
	w := fy.NewWindow(HostScreenTitle)
	list := container.NewVBox()
	fill := func(ps []HostProblem) {
		list.Objects = nil
		if len(ps) == 0 {
			list.Add(wrapped("This PC is ready. Open Spare again to start."))
		}
		for _, p := range ps {
			l := wrapped(p.Problem) // red says it is a problem: no mark glyph the bundled fonts may lack
			l.Importance = widget.DangerImportance
			list.Add(l)
			list.Add(wrapped(p.Fix))
		}
		list.Refresh()
	}
	fill(problems)
	title := widget.NewLabel("Spare can't share this PC's GPU yet")
	title.SizeName = "headingText"
	title.TextStyle.Bold = true
	again := widget.NewButton("Check again", func() { fill(check()) })
	// The driver's Quit, as App.Quit does, not fyne's App.Quit: that
	// closes the window first, and a mouse move already queued for it then
	// crashes the GLFW driver (processMouseMoved reads the closing
	// window's nil view; seen under Wine when the window was closed).
	quit := widget.NewButton("Quit", func() { fy.Driver().Quit() })
	w.SetContent(container.NewBorder(
		container.NewVBox(title, wrapped("Spare lends your GPU to other people's jobs while you are away. First, this PC needs:")),
		container.NewHBox(again, quit),
		nil, nil,
		container.NewVScroll(list),
	))
	w.SetCloseIntercept(func() { fy.Driver().Quit() })
	w.Resize(fyne.NewSize(640, 420))
	w.Show()
	return w
}
