package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// About is what the About page shows.
type About struct {
	Version string
	Licence string
	// Notices returns the licence and notices of every library in Spare
	// (cmd/spare: the text `spare version --licenses` prints). Nil: none.
	Notices func() (string, error)
}

// aboutPage shows the version and licence, then the notices, read when
// the page is first shown: some ten thousand lines, drawn by a list so
// that only the visible ones are laid out.
type aboutPage struct {
	about  About
	box    *fyne.Container
	lines  []string
	list   *widget.List
	loaded bool
}

func newAboutPage(a About) *aboutPage {
	p := &aboutPage{about: a}
	p.list = widget.NewList(func() int { return len(p.lines) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(p.lines[i]) })
	head := widget.NewForm(
		widget.NewFormItem("Version", widget.NewLabel(orDash(a.Version))),
		widget.NewFormItem("Licence", widget.NewLabel(orDash(a.Licence))),
	)
	intro := wrapped("Spare contains the libraries listed below, each under its own licence.")
	p.box = container.NewBorder(container.NewVBox(head, intro), nil, nil, nil, p.list)
	return p
}

// load reads the notices once. Called inside fyne.Do.
func (p *aboutPage) load() {
	if p.loaded {
		return
	}
	p.loaded = true
	if p.about.Notices == nil {
		p.lines = []string{"This build carries no list of licences."}
	} else if text, err := p.about.Notices(); err != nil {
		p.lines = []string{err.Error()}
	} else {
		p.lines = strings.Split(strings.ReplaceAll(text, "\t", "    "), "\n")
	}
	p.list.Refresh()
}

// AboutLines is the About page's notices as loaded (tests).
func (u *UI) AboutLines() []string { return u.about.lines }
