package app

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/localapi"
)

// homePage shows every Spare machine of the household on the LAN (its
// name, state sentence and earnings today) and their total, pauses and
// resumes each, and pairs another machine with a code.
type homePage struct {
	u        *UI
	box      *fyne.Container
	total    *widget.Label
	machines *fyne.Container
	note     *widget.Label
	code     *widget.Label
	typed    *widget.Entry
	pairOut  *widget.Label
	pairBtn  *widget.Button
	codeBtn  *widget.Button
}

func newHomePage(u *UI) *homePage {
	p := &homePage{u: u, total: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		machines: container.NewVBox(), note: wrapped(""), code: widget.NewLabel(""), typed: widget.NewEntry(), pairOut: wrapped("")}
	p.note.Importance = widget.WarningImportance
	p.code.TextStyle = fyne.TextStyle{Monospace: true}
	p.typed.SetPlaceHolder("the code the other machine shows, e.g. ABCD-EFGH")
	p.codeBtn = widget.NewButtonWithIcon("Show a pairing code", theme.ContentAddIcon(), p.showCode)
	p.pairBtn = widget.NewButtonWithIcon("Pair", theme.ConfirmIcon(), p.pair)
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	p.box = container.NewVBox(p.total, p.machines, p.note,
		bold("Add a machine"),
		wrapped("Machines with the same wallet address join by themselves. To add another, show a code here and type it there: each may then pause and resume the other."),
		container.NewHBox(p.codeBtn, p.code),
		container.NewBorder(nil, nil, nil, p.pairBtn, p.typed), p.pairOut)
	return p
}

func (p *homePage) render(v View) {
	p.note.SetText(v.HouseholdNote)
	h := v.Household
	if h == nil {
		p.total.SetText("Your machines: " + money(""))
		return
	}
	p.total.SetText("Your machines earned today: " + money(h.EarnedToday.String()))
	rows := make([]fyne.CanvasObject, 0, len(h.Machines))
	for _, m := range h.Machines {
		rows = append(rows, p.row(m))
	}
	p.machines.Objects = rows
	p.machines.Refresh()
}

// row is one machine: its name, what it is doing, what it earned today,
// and its pause or resume button (this machine's are on the Status tab).
func (p *homePage) row(m localapi.Machine) fyne.CanvasObject {
	name := m.Name
	if m.Via == localapi.ViaSelf {
		name += " (this PC)"
	}
	title := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	line := m.Sentence
	if !m.Reachable {
		line = m.Problem
	}
	body := wrapped(line)
	earned := widget.NewLabel("Earned today: " + money(m.EarnedToday.String()))
	var btn fyne.CanvasObject = widget.NewLabel("")
	if m.Via != localapi.ViaSelf && m.Reachable {
		peer := m.Peer
		if m.State == localapi.StatePaused {
			btn = widget.NewButtonWithIcon(labelResume, theme.MediaPlayIcon(), func() { p.command(peer, localapi.HouseholdResume, "") })
		} else {
			btn = widget.NewButtonWithIcon("Pause for 1 hour", theme.MediaPauseIcon(), func() { p.command(peer, localapi.HouseholdPause, "1h") })
		}
	}
	return container.NewVBox(container.NewBorder(nil, nil, nil, btn, title), body, earned, widget.NewSeparator())
}

// command pauses or resumes another machine, then reads the household
// again.
func (p *homePage) command(peer, op, dur string) {
	a := p.u.a
	a.command(func(ctx context.Context) error {
		_, err := a.cfg.Client.HouseholdCommand(ctx, localapi.HouseholdCommand{Peer: peer, Op: op, For: dur})
		a.refetch(fetchHousehold)
		return err
	})
}

func (p *homePage) showCode() {
	a := p.u.a
	p.codeBtn.Disable()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := a.cfg.Client.PairCode(ctx)
		a.draw(func() {
			p.codeBtn.Enable()
			if err != nil {
				p.code.SetText("")
				p.pairOut.Importance = widget.DangerImportance
				p.pairOut.SetText(errText(err))
				return
			}
			p.code.SetText(c.Code)
			p.pairOut.Importance = widget.MediumImportance
			p.pairOut.SetText("Type this code on the other machine before " + c.Expires.Local().Format("15:04") + ".")
		})
	}()
}

func (p *homePage) pair() {
	a, code := p.u.a, p.typed.Text
	p.pairBtn.Disable()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m, err := a.cfg.Client.Pair(ctx, code)
		a.refetch(fetchHousehold)
		a.draw(func() {
			p.pairBtn.Enable()
			if err != nil {
				p.pairOut.Importance = widget.DangerImportance
				p.pairOut.SetText(errText(err))
				return
			}
			p.typed.SetText("")
			p.pairOut.Importance = widget.SuccessImportance
			p.pairOut.SetText("Paired with " + m.Name + ".")
		})
	}()
}

// errText is a LocalAPI error's message, or the error.
func errText(err error) string {
	var le *localapi.Error
	if errors.As(err, &le) {
		return le.Message
	}
	return err.Error()
}
