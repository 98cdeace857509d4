package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/localapi"
)

// settingsForm edits the owner's settings. The work rules are the
// daemon's: the form shows what GET /v1/settings returns and Save sends
// PUT /v1/settings, which validates, saves and applies them at once.
// Start at login is the system's (Config.Login): the box shows what the
// system will do at the next login.
type settingsForm struct {
	u         *UI
	box       *fyne.Container
	idle      *widget.Entry
	battery   *widget.Check
	maxTemp   *widget.Entry
	schedule  *widget.Entry
	price     *widget.Entry
	power     *widget.Entry // electricity price per kWh
	currency  *widget.Entry
	rate      *widget.Entry
	noLoss    *widget.Check // never work at a loss
	margin    *widget.Entry // over the electricity, in percent
	floor     *widget.Label // the floor the daemon computed
	workloads *widget.CheckGroup
	network   *widget.Select // where money settles, from the daemon's next start
	strangers *widget.Check  // IOUs from strangers
	iouPeers  *widget.Entry  // peers whose IOUs are taken, comma-separated
	relay     *widget.Check  // volunteer as a relay for nodes behind NATs
	inUse     string         // the network this run settles on ("": the ledger)
	login     *widget.Check
	loginOn   bool // what the system does now
	save      *widget.Button
	note      *widget.Label
	result    *widget.Label
	loaded    bool
	readOnly  bool // the daemon lets this user look, not change (not an owner)
}

func newSettingsForm(u *UI) *settingsForm {
	f := &settingsForm{u: u, idle: widget.NewEntry(), maxTemp: widget.NewEntry(), schedule: widget.NewEntry(),
		price: widget.NewEntry(), power: widget.NewEntry(), currency: widget.NewEntry(), rate: widget.NewEntry(),
		result: wrapped(""), note: wrapped(""), margin: widget.NewEntry(), floor: wrapped("")}
	f.noLoss = widget.NewCheck("Never work at a loss", nil)
	f.margin.SetPlaceHolder("0")
	f.battery = widget.NewCheck("Work while on battery", nil)
	f.workloads = widget.NewCheckGroup([]string{"render", "inference"}, nil)
	f.workloads.Horizontal = true
	f.network = widget.NewSelect([]string{ledgerChoice}, nil)
	f.network.SetSelected(ledgerChoice)
	f.strangers = widget.NewCheck("Take jobs paid in IOUs from strangers", nil)
	f.iouPeers = widget.NewEntry()
	f.iouPeers.SetPlaceHolder("peer IDs, separated by commas")
	f.relay = widget.NewCheck("Relay for Spare nodes behind home routers", nil)
	f.login = widget.NewCheck("Open Spare when I log in", nil)
	f.readLogin()
	f.schedule.SetPlaceHolder("always, or 22:00-07:00")
	f.price.SetPlaceHolder("the daemon's price")
	f.power.SetPlaceHolder("not set")
	f.currency.SetPlaceHolder(unit)
	f.rate.SetPlaceHolder("1")
	form := widget.NewForm(
		widget.NewFormItem("Idle minutes", f.idle),
		widget.NewFormItem("Battery", f.battery),
		widget.NewFormItem("Max GPU °C", f.maxTemp),
		widget.NewFormItem("Schedule", f.schedule),
		widget.NewFormItem("Price floor / GPU-hour", f.price),
		widget.NewFormItem("Allowed work", f.workloads),
		widget.NewFormItem("Start at login", f.login),
		widget.NewFormItem("Data folder", widget.NewLabel(u.a.cfg.DataDir)),
		widget.NewFormItem("Electricity / kWh", f.power),
		widget.NewFormItem("Your currency", f.currency),
		widget.NewFormItem("1 "+unit+" is worth", f.rate),
		widget.NewFormItem("Electricity", f.noLoss),
		widget.NewFormItem("Margin %", f.margin),
		widget.NewFormItem("Network", f.network),
		widget.NewFormItem("IOUs", f.strangers),
		widget.NewFormItem("IOUs from", f.iouPeers),
		widget.NewFormItem("Relaying", f.relay),
	)
	form.Items[0].HintText = "How long without keyboard or mouse before work may start"
	form.Items[3].HintText = "When Spare may work, in local time"
	form.Items[4].HintText = "In " + unit + " per hour of one GPU (or CPU core)"
	form.Items[7].HintText = "Wallet, earnings and settings; start Spare with --data DIR to use another"
	form.Items[8].HintText = "What a kWh costs you: the Earnings page then shows what jobs earned after electricity"
	form.Items[10].HintText = "In your currency, as you set it: Spare never looks it up"
	form.Items[11].HintText = "Refuse jobs that pay less than the electricity they burn"
	form.Items[12].HintText = "Asked over the electricity cost when never working at a loss"
	form.Items[13].HintText = "How money settles and whom Spare meets, from the daemon's next start"
	form.Items[14].HintText = "A stranger's IOU is only a promise: one who never pays leaves your work unpaid"
	form.Items[15].HintText = "Peers you trust to pay IOUs (spare status shows a node's peer ID)"
	form.Items[16].HintText = "Lets them meet requesters; uses some upload bandwidth; off on metered connections"
	if u.a.cfg.WSL != nil {
		// Not the daemon's: the Windows user's .wslconfig, asked for in
		// a window of its own (wslscreen.go).
		form.Append("WSL limits", widget.NewButton("Memory and processors for jobs…", u.showWSLLimits))
		form.Items[len(form.Items)-1].HintText = "What WSL 2, where jobs run, may take of this PC (in your .wslconfig)"
	}
	f.save = widget.NewButton("Save", f.submit)
	f.save.Importance = widget.HighImportance
	f.save.Disable() // until the daemon's settings are shown
	f.note.Importance = widget.WarningImportance
	f.box = container.NewVBox(form, f.floor, container.NewHBox(f.save), f.note, f.result)
	return f
}

// loadDaemon shows the daemon's settings. Called inside fyne.Do.
func (f *settingsForm) loadDaemon(s localapi.Settings) {
	f.idle.SetText(strconv.Itoa(s.IdleMinutes))
	f.battery.SetChecked(s.RunOnBattery)
	f.maxTemp.SetText(strconv.Itoa(s.MaxTempC))
	f.schedule.SetText(s.Schedule)
	f.price.SetText(s.PriceFloor)
	f.power.SetText(s.ElectricityPrice)
	f.currency.SetText(s.Currency)
	f.rate.SetText(s.TokenRate)
	f.workloads.SetSelected(s.Workloads)
	f.noLoss.SetChecked(s.NoLoss)
	f.margin.SetText("")
	if s.LossMargin != 0 {
		f.margin.SetText(strconv.Itoa(s.LossMargin))
	}
	f.floor.SetText(FloorLine(s))
	f.network.Options = append([]string{ledgerChoice}, s.Networks...)
	f.network.SetSelected(networkChoice(s.Network))
	f.inUse = s.NetworkInUse
	f.strangers.SetChecked(s.IOUsFromStrangers)
	f.iouPeers.SetText(strings.Join(s.IOUPeers, ", "))
	f.relay.SetChecked(s.Relay)
	f.note.SetText("")
	if len(s.CommandLine) > 0 {
		f.note.SetText("Set on the daemon's command line for this run: " + strings.Join(s.CommandLine, ", ") + ". Saving replaces them.")
	}
	f.setReadOnly(s.ReadOnly)
	f.loaded = true
	f.save.Enable()
}

// setReadOnly shows the work rules read-only, with the daemon's sentence
// saying why and how to become an owner (why == "": editable again).
// Start at login stays this user's to change. Called inside fyne.Do.
func (f *settingsForm) setReadOnly(why string) {
	f.readOnly = why != ""
	for _, w := range []fyne.Disableable{f.idle, f.battery, f.maxTemp, f.schedule, f.price, f.power, f.currency, f.rate, f.noLoss, f.margin, f.workloads,
		f.network, f.strangers, f.iouPeers, f.relay} {
		if f.readOnly {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	if f.readOnly {
		f.note.SetText(why)
	}
}

// read turns the form into settings, or says which field is wrong.
func (f *settingsForm) read() (localapi.Settings, error) {
	var s localapi.Settings
	var err error
	if s.IdleMinutes, err = ParseIntField("idle minutes", f.idle.Text); err != nil {
		return s, err
	}
	if s.MaxTempC, err = ParseIntField("max temperature", f.maxTemp.Text); err != nil {
		return s, err
	}
	s.RunOnBattery = f.battery.Checked
	s.Schedule = f.schedule.Text
	s.PriceFloor = f.price.Text
	s.ElectricityPrice, s.Currency, s.TokenRate = f.power.Text, f.currency.Text, f.rate.Text
	s.Workloads = append([]string(nil), f.workloads.Selected...)
	if f.network.Selected != ledgerChoice {
		s.Network = f.network.Selected
	}
	s.IOUsFromStrangers = f.strangers.Checked
	s.Relay = f.relay.Checked
	for _, id := range strings.Split(f.iouPeers.Text, ",") {
		if id = strings.TrimSpace(id); id != "" {
			s.IOUPeers = append(s.IOUPeers, id)
		}
	}
	s.NoLoss = f.noLoss.Checked
	if strings.TrimSpace(f.margin.Text) != "" {
		if s.LossMargin, err = ParseIntField("margin", f.margin.Text); err != nil {
			return s, err
		}
	}
	return s, nil
}

// submit sends the settings to the daemon off the UI thread and shows
// the answer: the settings in force, or the field at fault.
func (f *settingsForm) submit() {
	s, err := f.read()
	if err != nil {
		f.show(err)
		return
	}
	login, was, readOnly := f.login.Checked, f.loginOn, f.readOnly
	a := f.u.a
	f.save.Disable()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var got localapi.Settings
		var err error
		if !readOnly {
			got, err = a.cfg.Client.UpdateSettings(ctx, s)
		}
		if err == nil && login != was {
			err = f.applyLogin(login)
		}
		a.draw(func() {
			f.save.Enable()
			var le *localapi.Error
			switch {
			case errors.As(err, &le) && le.Code == localapi.CodeNeedsOwner:
				f.setReadOnly(le.Message) // an owner took this user off DATA/owners meanwhile
				f.result.SetText("")
			case err != nil:
				f.show(err)
			case readOnly:
				f.result.Importance = widget.SuccessImportance
				f.result.SetText("Saved start at login. The work rules stay as the owner set them.")
			default:
				f.loadDaemon(got)
				f.result.Importance = widget.SuccessImportance
				f.result.SetText("Saved. Spare works by these rules from now on.")
				if got.Network != got.NetworkInUse {
					f.result.SetText("Saved. Spare works by these rules from now on; it is on network " +
						networkChoice(got.Network) + " from the Spare daemon's next start (now: " + networkChoice(got.NetworkInUse) + ").")
				}
			}
		})
	}()
}

// readLogin shows whether the app starts at login. Called on the UI
// thread; the check is a file or registry read.
func (f *settingsForm) readLogin() {
	item := f.u.a.cfg.Login
	if item == nil {
		f.login.SetText("Open Spare when I log in (not available on this system)")
		f.login.Disable()
		return
	}
	on, err := item.Enabled()
	if err != nil {
		f.u.a.log.Warn("reading start at login", "err", err)
	}
	f.loginOn = on
	f.login.SetChecked(on)
}

// applyLogin switches start at login, off the UI thread, and shows what
// the system does afterwards.
func (f *settingsForm) applyLogin(on bool) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	item := f.u.a.cfg.Login
	if err := item.Set(on, exe); err != nil {
		return err
	}
	now, err := item.Enabled()
	if err != nil {
		return err
	}
	f.u.a.draw(func() {
		f.loginOn = now
		f.login.SetChecked(now)
	})
	if now != on {
		return errors.New("start at login did not change: the system keeps a setting of its own")
	}
	return nil
}

func (f *settingsForm) show(err error) {
	f.result.Importance = widget.DangerImportance
	var le *localapi.Error
	if errors.As(err, &le) {
		f.result.SetText(le.Message)
		return
	}
	f.result.SetText(err.Error())
}

// FloorLine is the "never work at a loss" floor the daemon works to, as
// the Settings page shows it ("" when the option is off).
func FloorLine(s localapi.Settings) string {
	f := s.CostFloor
	if f == nil {
		return ""
	}
	var parts []string
	if f.GPUMilliWatts > 0 {
		parts = append(parts, fmt.Sprintf("%s %s per GPU-hour (%s)", f.PerGPUHour, unit, watts(f.GPUMilliWatts)))
	}
	parts = append(parts, fmt.Sprintf("%s %s per core-hour (%s)", f.PerCoreHour, unit, watts(f.CoreMilliWatts)))
	line := "Never at a loss: jobs must pay at least " + strings.Join(parts, " and ")
	if f.Estimated {
		line += ", estimated from rated power"
	}
	return line + "."
}

// watts writes a power in mW the way a meter reads: "350 W", "8.1 W".
func watts(mw int64) string {
	if mw >= 100_000 || mw%1000 == 0 {
		return fmt.Sprintf("%d W", (mw+500)/1000)
	}
	return fmt.Sprintf("%.1f W", float64(mw)/1000)
}

// ledgerChoice is the network choice that means no chain.
const ledgerChoice = "Local ledger (IOUs)"

func networkChoice(name string) string {
	if name == "" {
		return ledgerChoice
	}
	return name
}
