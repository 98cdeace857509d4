package app

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/app/wslconfig"
)

// On Windows Spare's jobs run in WSL 2, whose virtual machine takes the
// memory and processors that %USERPROFILE%\.wslconfig allows. The file
// is the user's and shared by all their distributions: the app shows
// what it would change there, and why, and writes it only when the owner
// says yes (wslconfig.Write keeps a backup).

// WSLConfig is what the app needs to offer WSL 2's limits: the user's
// .wslconfig and the PC's memory and processors (Config.WSL; nil where
// jobs do not run in WSL).
type WSLConfig struct {
	Path string
	Host wslconfig.Host
}

// WSLLimitsTitle is the title of the window that asks.
const WSLLimitsTitle = "Spare: memory and processors for jobs"

// limitsKey names limits in the settings (what the owner said no to).
func limitsKey(l wslconfig.Limits) string { return fmt.Sprintf("%dMB/%d", l.MemoryMB, l.Processors) }

// WSLAsk decides whether the app asks, when it starts, to set WSL 2's
// limits: when writing would change the file and the owner has not said
// "Not now" to these very limits (declined: Settings.WSLDeclined). The
// Settings page can always open the window.
func WSLAsk(p wslconfig.Proposal, declined string) bool {
	return p.Changed() && declined != limitsKey(p.Limits)
}

// wslProposal is the proposal for the owner's choice on this PC.
func wslProposal(cfg WSLConfig, c wslconfig.Choice) (wslconfig.Proposal, error) {
	l, err := wslconfig.LimitsFor(cfg.Host, c)
	if err != nil {
		return wslconfig.Proposal{}, err
	}
	return wslconfig.Propose(cfg.Path, l)
}

// wslScreen is the window that shows and, on the owner's yes, writes
// the change to .wslconfig.
type wslScreen struct {
	w       fyne.Window
	cfg     WSLConfig
	mem     *widget.Entry
	cpus    *widget.Entry
	notice  *widget.Label
	what    *widget.Label // what the changes below are
	changes *widget.Label
	result  *widget.Label
	apply   *widget.Button
	later   *widget.Button
	body    *container.Scroll
	prop    wslconfig.Proposal
	choice  wslconfig.Choice
	// save keeps the owner's choice in the app's settings; declined is
	// set when they chose Not now for these limits.
	save func(c wslconfig.Choice, declined string)
}

// ShowWSLLimits opens the window for the owner's choice c (zero fields:
// the defaults). save is called with the choice when it is written, and
// with the limits declined on Not now. Call it on the UI thread.
func ShowWSLLimits(fy fyne.App, cfg WSLConfig, c wslconfig.Choice, save func(c wslconfig.Choice, declined string)) fyne.Window {
	return showWSLLimitsIn(fy.NewWindow(WSLLimitsTitle), cfg, c, save)
}

// showWSLLimitsIn fills w (new, or one this function filled before and
// hid) and shows it. Closing it hides it: a destroyed window's late
// mouse events crash GLFW under Wine (and the window is opened again
// from Settings).
func showWSLLimitsIn(w fyne.Window, cfg WSLConfig, c wslconfig.Choice, save func(c wslconfig.Choice, declined string)) fyne.Window {
	s := &wslScreen{w: w, cfg: cfg, choice: c, save: save,
		mem: widget.NewEntry(), cpus: widget.NewEntry(), notice: wrapped(""), what: wrapped(""), changes: widget.NewLabel(""), result: wrapped("")}
	s.changes.TextStyle.Monospace = true
	s.changes.Wrapping = fyne.TextWrapBreak // a long path or line breaks, never widens the window
	if c.MemoryGB > 0 {
		s.mem.SetText(strconv.Itoa(c.MemoryGB))
	}
	if c.Processors > 0 {
		s.cpus.SetText(strconv.Itoa(c.Processors))
	}
	def, defErr := wslconfig.LimitsFor(cfg.Host, wslconfig.Choice{})
	if defErr == nil {
		s.mem.SetPlaceHolder(strconv.FormatInt(def.MemoryMB/1024, 10))
		s.cpus.SetPlaceHolder(strconv.Itoa(def.Processors))
	}
	s.mem.OnChanged = func(string) { s.refresh() }
	s.cpus.OnChanged = func(string) { s.refresh() }
	s.apply = widget.NewButton("Change .wslconfig", s.write)
	s.apply.Importance = widget.HighImportance
	s.later = widget.NewButton("Not now", s.decline)
	title := widget.NewLabel("Memory and processors for Spare's jobs")
	title.SizeName = "headingText"
	title.TextStyle.Bold = true
	form := widget.NewForm(
		widget.NewFormItem("Memory for jobs, GB", s.mem),
		widget.NewFormItem("Processors for jobs", s.cpus),
	)
	form.Items[0].HintText = fmt.Sprintf("This PC has %.1f GB; empty: all but a quarter (at least 4 GB kept for you)", float64(cfg.Host.MemoryMB)/1024)
	form.Items[1].HintText = fmt.Sprintf("This PC has %d; empty: all but %d", cfg.Host.Processors, cfg.Host.Processors-def.Processors)
	s.body = container.NewVScroll(container.NewVBox(s.notice, form, s.what, s.changes, s.result))
	s.w.SetContent(container.NewBorder(
		title,
		container.NewHBox(s.apply, s.later),
		nil, nil,
		s.body,
	))
	s.w.SetCloseIntercept(s.w.Hide)
	s.w.Resize(fyne.NewSize(720, 560))
	s.refresh()
	s.w.Show()
	return s.w
}

// read parses the two fields: empty is the default.
func (s *wslScreen) read() (wslconfig.Choice, error) {
	var c wslconfig.Choice
	var err error
	if t := strings.TrimSpace(s.mem.Text); t != "" {
		if c.MemoryGB, err = ParseIntField("memory for jobs", t); err != nil {
			return c, err
		}
	}
	if t := strings.TrimSpace(s.cpus.Text); t != "" {
		if c.Processors, err = ParseIntField("processors for jobs", t); err != nil {
			return c, err
		}
	}
	return c, nil
}

// refresh shows what the choice in the fields would change.
func (s *wslScreen) refresh() {
	s.apply.Disable()
	c, err := s.read()
	if err == nil {
		s.prop, err = wslProposal(s.cfg, c)
	}
	if err != nil {
		s.notice.SetText("")
		s.what.SetText("")
		s.changes.SetText("")
		s.showResult(err.Error(), widget.DangerImportance)
		return
	}
	s.choice = c
	s.notice.SetText(wslconfig.Notice(s.prop.Limits))
	if !s.prop.Changed() {
		s.what.SetText("Nothing to change: " + s.cfg.Path + " already holds these limits.")
		s.changes.SetText("")
		s.relayout()
		return
	}
	s.showResult("", widget.MediumImportance)
	what := "Spare would create " + s.cfg.Path + ":"
	if s.prop.Exists {
		what = "Spare would change these lines in " + s.cfg.Path + " (- goes, + comes):"
	}
	s.what.SetText(what)
	s.changes.SetText(strings.Join(s.prop.Changes(), "\n"))
	s.apply.Enable()
	s.relayout()
}

func (s *wslScreen) showResult(text string, imp widget.Importance) {
	s.result.Importance = imp
	s.result.SetText(text)
	s.relayout()
}

// relayout fits the scrolled body to texts that changed length (the
// scroll does not follow its content's size by itself).
func (s *wslScreen) relayout() {
	if s.changes.Text == "" {
		s.changes.Hide()
	} else {
		s.changes.Show()
	}
	if s.body != nil {
		s.body.Content.Refresh()
		s.body.Refresh()
	}
}

// write is the owner's yes: the file is written with a backup, and the
// owner told that WSL must restart for it.
func (s *wslScreen) write() {
	backup, err := wslconfig.Write(s.prop)
	if err != nil {
		s.showResult(err.Error(), widget.DangerImportance)
		return
	}
	s.save(s.choice, "")
	s.refresh()
	kept := "There was no .wslconfig before; Spare made one."
	if backup != "" {
		kept = "Your file as it was is kept as " + backup + "."
	}
	s.showResult("Saved. "+kept+" "+wslconfig.Restart, widget.SuccessImportance)
	s.later.SetText("Close")
}

// decline is Not now: the app does not ask again at start for these
// limits; the Settings page still offers them.
func (s *wslScreen) decline() {
	if s.prop.Path != "" && s.prop.Changed() {
		s.save(s.choice, limitsKey(s.prop.Limits))
	}
	s.w.Hide()
}

// showWSLLimits opens the window with the owner's saved choice and keeps
// what they decide in the app's settings.
func (u *UI) showWSLLimits() {
	cfg := u.a.cfg.WSL
	if cfg == nil {
		return
	}
	if u.wslWin == nil {
		u.wslWin = u.a.fy.NewWindow(WSLLimitsTitle)
	}
	showWSLLimitsIn(u.wslWin, *cfg, u.settings.WSL, func(c wslconfig.Choice, declined string) {
		s, err := UpdateSettings(u.a.cfg.DataDir, func(s *Settings) { s.WSL, s.WSLDeclined = c, declined })
		if err != nil {
			u.a.log.Warn("saving the WSL limits choice", "err", err)
			return
		}
		u.settings = s
	})
}

// askWSLLimits opens the window at start when WSLAsk says so.
func (u *UI) askWSLLimits() {
	cfg := u.a.cfg.WSL
	if cfg == nil {
		return
	}
	p, err := wslProposal(*cfg, u.settings.WSL)
	if err != nil {
		u.a.log.Warn("WSL limits", "err", err)
		return
	}
	if WSLAsk(p, u.settings.WSLDeclined) {
		u.showWSLLimits()
	}
}
