package app

import (
	"context"
	"fmt"
	"time"

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
	// Plain says the problem in a household's words; "": Detail is all.
	Plain string
	// Action fixes it at a click; nil: the fix is not one command.
	Action *FixAction
}

// FixAction is a fix the app runs for the person: one command, through
// the system's own privilege prompt where it needs root (cmd/spare builds
// it; the app never asks for or keeps a password).
type FixAction struct {
	// Label is the button's words: "Start the container service".
	Label string
	// After says what the person must do once it ran ("" for nothing).
	After string
	// Run carries the fix out; it may wait on the person's answer to the
	// system's prompt.
	Run func(ctx context.Context) error
}

// problem reports whether the check is something to fix on the first
// run: a required check that failed, or one the app can fix at a click.
func (c Check) problem() bool {
	return (!c.OK && c.Required) || (c.Action != nil && (!c.OK || c.Warn))
}

// fixWait bounds a fix, the system's prompt included.
const fixWait = 5 * time.Minute

// onboarding is the first run's screen: "Ready to earn", or what there is
// to fix in plain words with a button where one command fixes it; the
// checks' technical lines wait behind "Show details".
type onboarding struct {
	u        *UI
	box      *fyne.Container
	headline *widget.Label
	status   *widget.Label
	problems *fyne.Container
	note     *widget.Label
	details  *fyne.Container
	toggle   *widget.Button
	done     *widget.Button
}

func newOnboarding(u *UI) *onboarding {
	o := &onboarding{u: u, headline: widget.NewLabel("Checking this computer…"), status: wrapped(""),
		problems: container.NewVBox(), note: wrapped(""), details: container.NewVBox()}
	title := widget.NewLabel("Welcome to Spare")
	title.SizeName = theme.SizeNameHeadingText
	title.TextStyle.Bold = true
	o.headline.TextStyle.Bold = true
	o.headline.SizeName = theme.SizeNameSubHeadingText
	o.note.Hide() // until a fix has run
	o.details.Hide()
	o.toggle = widget.NewButton("Show details", o.toggleDetails)
	o.done = widget.NewButton("Continue", o.finish)
	// Only the title and Continue stay put: the rest scrolls, so a small
	// window shows it whole, a part at a time; at its smallest, the window
	// still shows the welcome sentence and the verdict in full (as wide as
	// the tabs' smallest).
	scroll := container.NewVScroll(container.NewVBox(
		wrapped("Spare lends your GPU to other people's jobs while you are away and pays you for each second."),
		o.headline, o.status, o.problems, o.note, container.NewHBox(o.toggle), o.details))
	scroll.SetMinSize(fyne.NewSize(600, 160))
	o.box = container.NewBorder(title, container.NewHBox(o.done), nil, nil, scroll)
	return o
}

func (o *onboarding) toggleDetails() {
	if o.details.Visible() {
		o.details.Hide()
		o.toggle.SetText("Show details")
	} else {
		o.details.Show()
		o.toggle.SetText("Hide details")
	}
}

// show draws the check results. Called inside fyne.Do.
func (o *onboarding) show(rs []Check) {
	var problems []fyne.CanvasObject
	n := 0
	for _, r := range rs {
		if !r.problem() {
			continue
		}
		n++
		say := r.Plain
		if say == "" {
			say = r.Name + ": " + r.Detail
		}
		l := wrapped(say)
		l.Importance = widget.WarningImportance
		if !r.OK && r.Required {
			l.Importance = widget.DangerImportance
		}
		problems = append(problems, l)
		if r.Action != nil {
			act := r.Action
			var b *widget.Button
			b = widget.NewButtonWithIcon(act.Label, theme.ConfirmIcon(), func() { o.fix(b, act) })
			b.Importance = widget.HighImportance
			problems = append(problems, container.NewHBox(b))
		} else if r.Fix != "" {
			problems = append(problems, wrapped("How to fix it is in the details below."))
		}
	}
	switch n {
	case 0:
		o.headline.SetText("Ready to earn")
		o.status.SetText("This computer can run Spare jobs. Continue, and Spare earns while you are away.")
	case 1:
		o.headline.SetText("One thing to fix")
		o.status.SetText("Fix it here, or continue now and fix it later.")
	default:
		o.headline.SetText(fmt.Sprintf("%d things to fix", n))
		o.status.SetText("Fix them here, or continue now and fix them later.")
	}
	o.problems.Objects = problems
	o.problems.Refresh()
	o.details.Objects = detailLines(rs)
	o.details.Refresh()
}

// detailLines are the checks' technical lines, each with its mark (an
// icon: the bundled font has no check marks) and its fix.
func detailLines(rs []Check) []fyne.CanvasObject {
	var objs []fyne.CanvasObject
	for _, r := range rs {
		var mark fyne.Resource = theme.NewSuccessThemedResource(theme.ConfirmIcon())
		imp := widget.SuccessImportance
		switch {
		case !r.OK && r.Required:
			mark, imp = theme.NewErrorThemedResource(theme.CancelIcon()), widget.DangerImportance
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
	return objs
}

// fix runs a fix off the UI thread, then checks the computer again.
// Called inside fyne.Do.
func (o *onboarding) fix(b *widget.Button, act *FixAction) {
	b.Disable()
	o.note.SetText("Waiting for the system to ask for your permission…")
	o.note.Show()
	a := o.u.a
	a.goRun(a.ctx, "fix", func(ctx context.Context) error {
		fctx, cancel := context.WithTimeout(ctx, fixWait)
		err := act.Run(fctx)
		cancel()
		if err != nil {
			a.log.Error("fixing from onboarding", "fix", act.Label, "err", err)
		}
		a.draw(func() {
			b.Enable()
			switch {
			case err != nil:
				o.note.SetText("That did not work: " + err.Error())
			default:
				o.note.SetText(act.After)
			}
		})
		return a.runDoctor(ctx)
	})
}

func (o *onboarding) finish() {
	o.u.settings.Onboarded = true
	s, err := UpdateSettings(o.u.a.cfg.DataDir, func(s *Settings) { s.Onboarded = true })
	if err != nil {
		o.u.a.log.Error("saving settings", "err", err)
	} else {
		o.u.settings = s // with what the tray process saved meanwhile
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
