package app

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Check is one doctor check's outcome as onboarding shows it (cmd/spare
// converts the doctor package's results: the app knows nothing of
// containerd).
type Check struct {
	Name     string
	OK       bool
	Warn     bool // works, but something is missing or odd
	Detail   string
	Fix      string // the command that fixes it
	Required bool
}

type onboarding struct {
	u      *UI
	box    *fyne.Container
	list   *fyne.Container
	status *widget.Label
	done   *widget.Button
}

func newOnboarding(u *UI) *onboarding {
	o := &onboarding{u: u, list: container.NewVBox(), status: wrapped("Checking this computer…")}
	title := widget.NewLabel("Welcome to Spare")
	title.SizeName = "headingText"
	title.TextStyle.Bold = true
	o.done = widget.NewButton("Continue", o.finish)
	o.box = container.NewBorder(
		container.NewVBox(title, wrapped("Spare lends your GPU to other people's jobs while you are away and pays you for each second. First, a few checks:")),
		container.NewHBox(o.done),
		nil, nil,
		container.NewVScroll(container.NewVBox(o.status, o.list)),
	)
	return o
}

// show draws the check results. Called inside fyne.Do.
func (o *onboarding) show(rs []Check) {
	objs := []fyne.CanvasObject{}
	bad := 0
	for _, r := range rs {
		// The marks are icons: the bundled font has no check marks.
		var mark fyne.Resource = theme.NewSuccessThemedResource(theme.ConfirmIcon())
		imp := widget.SuccessImportance
		switch {
		case !r.OK && r.Required:
			mark, imp = theme.NewErrorThemedResource(theme.CancelIcon()), widget.DangerImportance
			bad++
		case !r.OK || r.Warn:
			mark, imp = theme.NewWarningThemedResource(theme.WarningIcon()), widget.WarningImportance
		}
		l := wrapped(r.Name + ": " + r.Detail)
		l.Importance = imp
		objs = append(objs, container.NewBorder(nil, nil, widget.NewIcon(mark), nil, l))
		if r.Fix != "" && (!r.OK || r.Warn) {
			fix := widget.NewLabel("run: " + r.Fix)
			fix.TextStyle.Monospace = true
			fix.Wrapping = fyne.TextWrapBreak
			objs = append(objs, fix)
		}
	}
	if bad == 0 {
		o.status.SetText("This computer can run Spare jobs.")
	} else {
		o.status.SetText("Fix the marked problems, then Spare can start earning. You can continue now and fix them later.")
	}
	o.list.Objects = objs
	o.list.Refresh()
}

func (o *onboarding) finish() {
	o.u.settings.Onboarded = true
	if err := SaveSettings(o.u.a.cfg.DataDir, o.u.settings); err != nil {
		o.u.a.log.Error("saving settings", "err", err)
	}
	o.u.w.SetContent(o.u.tabs)
}

// runDoctor runs the checks once and shows them.
func (a *App) runDoctor(ctx context.Context) error {
	rs := a.cfg.Doctor(ctx)
	if ctx.Err() != nil {
		return nil
	}
	a.draw(func() {
		if a.ui.onboard != nil {
			a.ui.onboard.show(rs)
		}
	})
	return nil
}
