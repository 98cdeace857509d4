package app

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/sparegpu/spare/localapi"
)

var pauseFor1h = localapi.PauseRequest{For: "1h"}

// The three figures, each explained in one line.
const (
	explainEarned  = "Earned: work requesters have signed for. It is yours; it just has not moved yet."
	explainSettled = "Settled: of that, what has been collected into your wallet."
	explainPaidOut = "Paid out: what you have sent from the wallet to another address."
)

// historyShown is how many history lines the Earnings page lists.
const historyShown = 8

type earningsPage struct {
	box                        *fyne.Container
	today, week, month         *widget.Label
	earned, settled, paid, err *widget.Label
	energy                     *widget.Label
	hours, days                *barChart
	history                    *fyne.Container
}

func newEarningsPage() earningsPage {
	p := earningsPage{today: widget.NewLabel(""), week: widget.NewLabel(""), month: widget.NewLabel(""),
		earned: widget.NewLabel(""), settled: widget.NewLabel(""), paid: widget.NewLabel(""), err: wrapped(""),
		energy: wrapped(""), hours: newBarChart(), days: newBarChart(), history: container.NewVBox()}
	p.err.Importance = widget.DangerImportance
	figures := widget.NewForm(
		widget.NewFormItem("Today", p.today),
		widget.NewFormItem("7 days", p.week),
		widget.NewFormItem("30 days", p.month),
	)
	money := widget.NewForm(
		widget.NewFormItem("Earned", p.earned),
		widget.NewFormItem("Settled", p.settled),
		widget.NewFormItem("Paid out", p.paid),
	)
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	p.box = container.NewVBox(figures, p.energy, widget.NewLabel("Last 24 hours, per hour (UTC)"), p.hours,
		widget.NewLabel("Last 30 days, per day (UTC)"), p.days, money,
		wrapped(explainEarned), wrapped(explainSettled), wrapped(explainPaidOut), p.err,
		bold("History"), p.history)
	return p
}

// energyLine is the electricity the jobs used, beside the earnings.
func energyLine(w *localapi.Wallet) string {
	if w == nil {
		return ""
	}
	e := w.Energy
	s := fmt.Sprintf("Electricity used by jobs: %s today, %s in 7 days, %s in 30 days", wattHours(e.TodayMWh), wattHours(e.WeekMWh), wattHours(e.MonthMWh))
	if e.Estimated {
		s += " (partly estimated from rated power)"
	}
	switch {
	case e.Priced && e.Currency != "":
		s += fmt.Sprintf("\nIts cost: %s today, %s in 7 days, %s in 30 days", e.LocalToday.Format(e.Currency), e.LocalWeek.Format(e.Currency), e.LocalMonth.Format(e.Currency))
	case e.Priced:
		s += fmt.Sprintf("\nIts cost: %s today, %s in 7 days, %s in 30 days (%s)", e.CostToday, e.CostWeek, e.CostMonth, unit)
	}
	if e.Priced {
		s += fmt.Sprintf("\nEarned after electricity: %s today, %s in 7 days, %s in 30 days (%s)",
			w.Today-e.CostToday, w.Week-e.CostWeek, w.Month-e.CostMonth, unit)
	}
	return s
}

// wattHours writes an energy in mWh the way a meter reads: "0.08 Wh",
// "12.3 Wh", "4.56 kWh".
func wattHours(mwh int64) string {
	switch {
	case mwh < 10_000:
		return fmt.Sprintf("%.2f Wh", float64(mwh)/1000)
	case mwh < 1_000_000:
		return fmt.Sprintf("%.1f Wh", float64(mwh)/1000)
	}
	return fmt.Sprintf("%.2f kWh", float64(mwh)/1e6)
}

// showText sets l's text, and hides l while it has none: an empty label
// still takes a line's height.
func showText(l *widget.Label, s string) {
	l.SetText(s)
	if s == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

func money(s string) string { return orDash(s) + " " + unit }

// amount draws a figure of a wallet not read yet as a dash.
func amount(w *localapi.Wallet, a func(*localapi.Wallet) localapi.Amount) string {
	if w == nil {
		return money("")
	}
	return money(a(w).String())
}

func (p *earningsPage) render(v View) {
	w := v.Wallet
	p.today.SetText(money(v.EarnedToday))
	p.week.SetText(amount(w, func(w *localapi.Wallet) localapi.Amount { return w.Week }))
	p.month.SetText(amount(w, func(w *localapi.Wallet) localapi.Amount { return w.Month }))
	p.earned.SetText(amount(w, func(w *localapi.Wallet) localapi.Amount { return w.Earned }))
	p.settled.SetText(amount(w, func(w *localapi.Wallet) localapi.Amount { return w.Settled }))
	p.paid.SetText(amount(w, func(w *localapi.Wallet) localapi.Amount { return w.PaidOut }))
	showText(p.err, v.MoneyErr)
	showText(p.energy, energyLine(w))
	var hours, days []int64
	var lines []fyne.CanvasObject
	if w != nil {
		hours, days = points(w.Hours), points(w.Days)
		for i, a := range w.History {
			if i == historyShown {
				break
			}
			lines = append(lines, widget.NewLabel(historyLine(a)))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, wrapped("Nothing yet: jobs paid and withdrawals appear here."))
	}
	p.hours.set(hours, 24)
	p.days.set(days, 30)
	p.history.Objects = lines
	p.history.Refresh()
}

func points(ps []localapi.Point) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = int64(p.Earned)
	}
	return out
}

// historyLine is one line of the history list, in local time.
func historyLine(a localapi.Activity) string {
	at := a.At.Local().Format("Jan 2 15:04")
	if a.Kind == localapi.ActivityPayout {
		return fmt.Sprintf("%s   paid out to %s   -%s %s", at, shortAddr(a.To), a.Amount, unit)
	}
	job := "a job"
	if a.Job != "" {
		job = "job " + shortAddr(a.Job)
	}
	return fmt.Sprintf("%s   earned for %s   +%s %s", at, job, a.Amount, unit) + jobEnergyLine(a)
}

// jobEnergyLine is a paid job's electricity under its history line: the
// energy, and with the owner's price its cost (in the owner's currency
// when set) and what the job earned after it; "" when not known.
func jobEnergyLine(a localapi.Activity) string {
	if a.EnergyMWh <= 0 {
		return ""
	}
	s := "\n      " + wattHours(a.EnergyMWh) + " of electricity"
	if a.Priced {
		cost := a.Electricity.String() + " " + unit
		if a.Currency != "" {
			cost = a.ElectricityLocal.Format(a.Currency)
		}
		net := a.Amount - a.Electricity
		sign := "+"
		if net < 0 {
			sign = ""
		}
		s = fmt.Sprintf("\n      %s, electricity %s, net %s%s %s", wattHours(a.EnergyMWh), cost, sign, net, unit)
	}
	if a.EnergyEstimated {
		s += " (estimated)"
	}
	return s
}

// shortAddr is an address or hash as people compare them: 0x1234…abcd.
func shortAddr(s string) string {
	if len(s) > 14 {
		return s[:6] + "…" + s[len(s)-4:]
	}
	return s
}

// barChart draws one bar per value in the theme's colours (re-read on
// every refresh, so a theme change repaints it).
type barChart struct {
	widget.BaseWidget
	values []int64
	n      int
}

func newBarChart() *barChart {
	c := &barChart{}
	c.ExtendBaseWidget(c)
	return c
}

// set shows values as n bars (missing values draw as empty bars).
func (c *barChart) set(values []int64, n int) {
	c.values, c.n = append(c.values[:0], values...), n
	c.Refresh()
}

func (c *barChart) CreateRenderer() fyne.WidgetRenderer {
	r := &barRenderer{c: c, box: container.New(&barsLayout{})}
	r.Refresh()
	return r
}

type barRenderer struct {
	c   *barChart
	box *fyne.Container
}

func (r *barRenderer) Layout(s fyne.Size)           { r.box.Resize(s) }
func (r *barRenderer) MinSize() fyne.Size           { return r.box.MinSize() }
func (r *barRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.box} }
func (r *barRenderer) Destroy()                     {}

func (r *barRenderer) Refresh() {
	on, off := theme.Color(theme.ColorNamePrimary), theme.Color(theme.ColorNameDisabled)
	bars := make([]fyne.CanvasObject, max(r.c.n, len(r.c.values)))
	for i := range bars {
		if i < len(r.c.values) && r.c.values[i] > 0 {
			bars[i] = canvas.NewRectangle(on)
		} else {
			bars[i] = canvas.NewRectangle(off)
		}
	}
	r.box.Layout = &barsLayout{values: r.c.values}
	r.box.Objects = bars
	r.box.Refresh()
}

// barsLayout places one rectangle per value, heights relative to the
// largest; empty slots get a thin baseline bar.
type barsLayout struct{ values []int64 }

func (l *barsLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(240, 64) }

func (l *barsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	var top int64 = 1
	for _, v := range l.values {
		top = max(top, v)
	}
	n := float32(len(objs))
	if n == 0 {
		return
	}
	slot := size.Width / n
	for i, o := range objs {
		h := float32(2)
		if i < len(l.values) && l.values[i] > 0 {
			h = max(h, size.Height*float32(l.values[i])/float32(top))
		}
		o.Resize(fyne.NewSize(slot*0.7, h))
		o.Move(fyne.NewPos(float32(i)*slot, size.Height-h))
	}
}

// humanDuration says a running time the way the tray does: "4 min 12 s".
func humanDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// qrImage draws addr as a QR code, black on white for any theme.
func qrImage(addr string) (*canvas.Image, error) {
	q, err := qrcode.New(addr, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	q.BackgroundColor, q.ForegroundColor = color.White, color.Black
	return canvas.NewImageFromImage(q.Image(180)), nil
}
