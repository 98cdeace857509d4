package app

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/localapi"
)

// UI is the window. It draws a View and turns clicks into commands; the
// only state it keeps is the settings form being edited.
type UI struct {
	a        *App
	w        fyne.Window
	session  SessionInfo
	settings Settings
	shown    bool

	tabs                       *container.AppTabs
	sentence, next, notes, err *widget.Label
	network                    *widget.Label // which network this node is on
	reach                      *widget.Label // how other nodes reach this one
	relay                      *widget.Label // whether this node relays for others
	pauseBtn, resumeBtn        *widget.Button
	retryBtn                   *widget.Button  // Try again, after a failed setup
	status                     *fyne.Container // the Status page's column
	gpus                       *fyne.Container
	job, jobState              *widget.Label
	earn                       earningsPage
	wal                        *walletPage
	home                       *homePage
	form                       *settingsForm
	onboard                    *onboarding
	about                      *aboutPage
	wslWin                     fyne.Window // WSL's limits (wslscreen.go); hidden, not closed
}

// Window size on first show.
var windowSize = fyne.NewSize(720, 520)

func newUI(fy fyne.App, a *App, s Settings, session SessionInfo) *UI {
	u := &UI{a: a, session: session, settings: s}
	u.w = fy.NewWindow("Spare")
	u.w.SetIcon(AppIcon())
	u.w.Resize(windowSize)
	if session.TrayOK() {
		u.w.SetCloseIntercept(u.hide) // the tray keeps Spare running
	} else {
		u.w.SetCloseIntercept(a.Quit)
	}

	u.sentence = widget.NewLabel("Connecting to Spare…")
	u.sentence.SizeName = theme.SizeNameHeadingText
	u.sentence.TextStyle.Bold = true
	u.sentence.Wrapping = fyne.TextWrapWord
	u.next = wrapped("")
	u.notes = wrapped("")
	u.notes.Importance = widget.WarningImportance
	u.err = wrapped("")
	u.err.Importance = widget.DangerImportance
	u.network = wrapped("")
	u.network.Hide()
	u.reach = wrapped("")
	u.reach.Hide()
	u.relay = wrapped("")
	u.relay.Hide()
	u.pauseBtn = widget.NewButtonWithIcon("Pause for 1 hour", theme.MediaPauseIcon(), func() { a.pause(pauseFor1h) })
	u.resumeBtn = widget.NewButtonWithIcon(labelResume, theme.MediaPlayIcon(), a.resume)
	u.retryBtn = widget.NewButtonWithIcon(LabelTryAgain, theme.ViewRefreshIcon(), func() {
		u.retryBtn.Disable() // until the try's view redraws it
		a.tryAgain()
	})
	u.retryBtn.Importance = widget.HighImportance
	u.retryBtn.Hide()
	status := container.NewVBox(u.sentence, u.next, container.NewHBox(u.retryBtn, u.pauseBtn, u.resumeBtn), u.network, u.reach, u.relay, u.notes, u.err)
	u.status = status

	u.gpus = container.NewVBox()
	u.job = wrapped("")
	u.jobState = wrapped("")
	job := container.NewVBox(u.job, u.jobState)

	u.earn = newEarningsPage()
	u.wal = newWalletPage(u)
	u.home = newHomePage(u)
	u.form = newSettingsForm(u)
	u.about = newAboutPage(a.cfg.About)

	u.tabs = container.NewAppTabs(
		container.NewTabItem("Status", container.NewPadded(status)),
		container.NewTabItem("GPU", container.NewVScroll(container.NewPadded(u.gpus))),
		container.NewTabItem("Job", container.NewPadded(job)),
		container.NewTabItem("Earnings", container.NewVScroll(container.NewPadded(u.earn.box))),
		container.NewTabItem("Wallet", container.NewVScroll(container.NewPadded(u.wal.box))),
		container.NewTabItem("Household", container.NewVScroll(container.NewPadded(u.home.box))),
		container.NewTabItem("Settings", container.NewVScroll(container.NewPadded(u.form.box))),
		container.NewTabItem("About", container.NewPadded(u.about.box)),
	)
	u.tabs.OnSelected = func(it *container.TabItem) {
		switch it.Text {
		case "About":
			u.about.load()
		case "Household":
			a.refetch(fetchHousehold)
		}
	}
	if a.cfg.Doctor != nil && !s.Onboarded {
		u.onboard = newOnboarding(u)
		u.w.SetContent(u.onboard.box)
	} else {
		u.w.SetContent(u.tabs)
	}
	return u
}

func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// Window returns the window (tests capture it).
func (u *UI) Window() fyne.Window { return u.w }

// SelectTab shows the named tab ("Status", "GPU", …).
func (u *UI) SelectTab(name string) {
	for _, it := range u.tabs.Items {
		if it.Text == name {
			u.tabs.Select(it)
		}
	}
}

// Sentence is the status sentence as drawn.
func (u *UI) Sentence() string { return u.sentence.Text }

func (u *UI) show(done func()) {
	u.w.Show()
	u.w.RequestFocus()
	if !u.shown && done != nil {
		u.shown = true
		done()
	}
}

// hide closes the window to the tray.
func (u *UI) hide() {
	u.w.Hide()
	u.a.settled()
}

func (u *UI) showError(err error) { u.err.SetText(err.Error()) }

// render draws the view. Called inside fyne.Do.
func (u *UI) render(v View) {
	relayout := v.CanRetry && (u.sentence.Text != v.Sentence || u.next.Text != v.Next)
	u.sentence.SetText(v.Sentence)
	u.next.SetText(v.Next)
	if relayout {
		// A failed setup's problem is a long wrapped sentence that moves
		// what is below it; the column did not always follow by itself
		// (seen under Wine: a three-line problem drawn over its fix).
		defer u.status.Refresh()
	}
	var notes []string
	for _, n := range []string{v.Notice, v.Problem, v.SessionNote, v.SensorNote, v.GPUNote, v.BelowCost} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	u.notes.SetText(strings.Join(notes, "\n"))
	u.network.SetText(v.Network)
	if v.Network == "" {
		u.network.Hide()
	} else {
		u.network.Show()
	}
	u.reach.Importance = widget.MediumImportance
	if v.ReachWarn {
		u.reach.Importance = widget.WarningImportance
	}
	u.reach.SetText(v.Reach)
	if v.Reach == "" {
		u.reach.Hide()
	} else {
		u.reach.Show()
	}
	u.relay.SetText(v.Relay)
	if v.Relay == "" {
		u.relay.Hide()
	} else {
		u.relay.Show()
	}
	setEnabled(u.pauseBtn, v.CanPause)
	setEnabled(u.resumeBtn, v.CanResume)
	if v.CanRetry {
		u.retryBtn.Enable()
		u.retryBtn.Show()
	} else {
		u.retryBtn.Hide()
	}
	if v.Connected {
		u.err.SetText("")
	}
	u.renderGPUs(v)
	u.renderJob(v)
	u.earn.render(v)
	u.wal.render(v)
	u.home.render(v)
}

func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

func (u *UI) renderGPUs(v View) {
	objs := []fyne.CanvasObject{}
	if len(v.Devices) == 0 {
		objs = append(objs, wrapped("No devices reported yet."))
	}
	for _, d := range v.Devices {
		title := widget.NewLabel(fmt.Sprintf("#%d  %s", d.Index, d.Name))
		title.TextStyle.Bold = true
		state := "Offered for work"
		switch {
		case d.Job != "":
			state = "Working on job " + shortID(d.Job)
		case !d.Usable:
			state = "Held back: " + orDash(string(d.Reason))
		}
		objs = append(objs, title, widget.NewLabel(state))
		series, ok := findSeries(v.Telemetry, d.UUID)
		if !ok || len(series.Samples) == 0 {
			objs = append(objs, wrapped("No readings yet."))
			continue
		}
		objs = append(objs, widget.NewLabel(readingLine(series)))
		chart := newBarChart()
		chart.set(perMinute(series.Samples, v.Now), 60)
		objs = append(objs, widget.NewLabel("Utilisation, last hour (one bar per minute)"), chart)
	}
	u.gpus.Objects = objs
	u.gpus.Refresh()
}

func findSeries(t localapi.Telemetry, uuid string) (localapi.DeviceSeries, bool) {
	for _, s := range t.Devices {
		if s.UUID == uuid {
			return s, true
		}
	}
	return localapi.DeviceSeries{}, false
}

// readingLine is a device's latest reading in words.
func readingLine(s localapi.DeviceSeries) string {
	r := s.Samples[len(s.Samples)-1]
	vram := "—"
	if s.VRAMTotal > 0 {
		vram = fmt.Sprintf("%.1f of %.1f GiB", float64(r.VRAMUsed)/(1<<30), float64(s.VRAMTotal)/(1<<30))
	}
	temp, power := "—", "—"
	if r.TempC > 0 {
		temp = fmt.Sprintf("%d °C", r.TempC)
	}
	if r.PowerMW > 0 {
		power = fmt.Sprintf("%d W", (r.PowerMW+500)/1000)
	}
	return fmt.Sprintf("Utilisation %d %%   VRAM %s   Temperature %s   Power %s", r.Util, vram, temp, power)
}

// perMinute is the highest utilisation in each of the 60 minutes before
// now, oldest first.
func perMinute(samples []localapi.Sample, now time.Time) []int64 {
	out := make([]int64, 60)
	first := now.Add(-time.Hour)
	for _, s := range samples {
		if i := int(s.At.Sub(first) / time.Minute); i >= 0 && i < 60 {
			out[i] = max(out[i], int64(s.Util))
		}
	}
	return out
}

func (u *UI) renderJob(v View) {
	j := v.CurrentJob
	switch {
	case v.Job == "":
		u.job.SetText("No job right now.")
		u.jobState.SetText("A job starts when you are away and a requester asks for this machine.")
		return
	case j == nil:
		u.job.SetText("Job " + shortID(v.Job))
	default:
		started := j.Started
		running := time.Duration(j.RunningS) * time.Second
		if !started.IsZero() && !v.Now.IsZero() {
			running = v.Now.Sub(started)
		}
		kind := j.Kind
		if kind == "" {
			kind = "not given"
		}
		how := "measured"
		if j.EnergyEstimated {
			how = "estimated from rated power"
		}
		u.job.SetText(fmt.Sprintf("Job %s\nKind: %s\nRequester: %s\nRunning for %s\nEarned so far: %s %s\nElectricity so far: %s (%s)",
			shortID(j.ID), kind, orDash(j.Requester), humanDuration(running), j.Earned, unit, wattHours(j.EnergyMWh), how))
	}
	if v.JobFrozen || (j != nil && j.State == localapi.JobFrozen) {
		u.jobState.SetText("Frozen while you use the computer. It carries on when you step away.")
	} else {
		u.jobState.SetText("Running, and earning for every second of work.")
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
