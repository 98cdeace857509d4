package app

import (
	"image/color"

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

type earningsPage struct {
	box                        *fyne.Container
	today, week, month         *widget.Label
	earned, settled, paid, err *widget.Label
	chart                      *barChart
}

func newEarningsPage() earningsPage {
	p := earningsPage{today: widget.NewLabel(""), week: widget.NewLabel(""), month: widget.NewLabel(""),
		earned: widget.NewLabel(""), settled: widget.NewLabel(""), paid: widget.NewLabel(""), err: wrapped("")}
	p.err.Importance = widget.DangerImportance
	p.chart = newBarChart()
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
	p.box = container.NewVBox(figures, widget.NewLabel("Last 24 hours, per hour"), p.chart, money,
		wrapped(explainEarned), wrapped(explainSettled), wrapped(explainPaidOut), p.err)
	return p
}

func money(s string) string { return orDash(s) + " " + unit }

func (p *earningsPage) render(v View) {
	p.today.SetText(money(v.EarnedToday))
	p.week.SetText(money(v.Money.Week))
	p.month.SetText(money(v.Money.Month))
	p.earned.SetText(money(v.Money.Earned))
	p.settled.SetText(money(v.Money.Settled))
	p.paid.SetText(money(v.Money.PaidOut))
	p.err.SetText(v.MoneyErr)
	p.chart.set(v.Money.Hours)
}

// barChart draws one bar per hour in the theme's colours (re-read on every
// refresh, so a theme change repaints it).
type barChart struct {
	widget.BaseWidget
	values []int64
}

func newBarChart() *barChart {
	c := &barChart{}
	c.ExtendBaseWidget(c)
	return c
}

func (c *barChart) set(values []int64) {
	c.values = append(c.values[:0], values...)
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
	bars := make([]fyne.CanvasObject, 24)
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
// largest; empty hours get a thin baseline bar.
type barsLayout struct{ values []int64 }

func (l *barsLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(240, 80) }

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

type walletPage struct {
	fy      fyne.App
	box     *fyne.Container
	address *widget.Label
	copyBtn *widget.Button
	qr      *canvas.Image
	qrFor   string
}

func newWalletPage(fy fyne.App) walletPage {
	p := walletPage{fy: fy, address: widget.NewLabel("—")}
	p.address.TextStyle.Monospace = true
	p.address.Wrapping = fyne.TextWrapBreak
	p.copyBtn = widget.NewButtonWithIcon("Copy address", theme.ContentCopyIcon(), nil)
	p.copyBtn.Disable()
	p.qr = canvas.NewImageFromImage(nil)
	p.qr.FillMode = canvas.ImageFillContain
	p.qr.ScaleMode = canvas.ImageScalePixels
	p.qr.SetMinSize(fyne.NewSize(180, 180))
	p.box = container.NewVBox(
		widget.NewLabelWithStyle("Your wallet address", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.address, container.NewHBox(p.copyBtn), container.NewHBox(p.qr),
		wrapped("Requesters pay this address. Withdraw and keystore export: `spare wallet withdraw` and `spare wallet export` for now."),
	)
	return p
}

func (p *walletPage) render(v View) {
	addr := v.Money.Address
	p.address.SetText(orDash(addr))
	if addr == "" {
		p.copyBtn.Disable()
		return
	}
	p.copyBtn.OnTapped = func() { p.fy.Clipboard().SetContent(addr) }
	p.copyBtn.Enable()
	if p.qrFor == addr {
		return
	}
	q, err := qrcode.New(addr, qrcode.Medium)
	if err != nil {
		return
	}
	q.BackgroundColor, q.ForegroundColor = color.White, color.Black
	p.qr.Image = q.Image(180)
	p.qrFor = addr
	p.qr.Refresh()
}
