package app

import (
	"os"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// settingsForm edits Settings. Saving validates, writes the settings file
// and applies start at login.
type settingsForm struct {
	u         *UI
	box       *fyne.Container
	idle      *widget.Entry
	battery   *widget.Check
	maxTemp   *widget.Entry
	schedule  *widget.Entry
	price     *widget.Entry
	workloads *widget.CheckGroup
	login     *widget.Check
	result    *widget.Label
}

func newSettingsForm(u *UI) *settingsForm {
	f := &settingsForm{u: u, idle: widget.NewEntry(), maxTemp: widget.NewEntry(), schedule: widget.NewEntry(),
		price: widget.NewEntry(), result: wrapped("")}
	f.battery = widget.NewCheck("Work while on battery", nil)
	f.workloads = widget.NewCheckGroup([]string{"render", "inference"}, nil)
	f.workloads.Horizontal = true
	f.login = widget.NewCheck("Open Spare when I log in", nil)
	f.schedule.SetPlaceHolder("always, or 22:00-07:00")
	f.price.SetPlaceHolder("market price")
	f.load(u.settings)
	form := widget.NewForm(
		widget.NewFormItem("Idle minutes", f.idle),
		widget.NewFormItem("Battery", f.battery),
		widget.NewFormItem("Max GPU °C", f.maxTemp),
		widget.NewFormItem("Schedule", f.schedule),
		widget.NewFormItem("Price floor / GPU-hour", f.price),
		widget.NewFormItem("Allowed work", f.workloads),
		widget.NewFormItem("Start at login", f.login),
		widget.NewFormItem("Data folder", widget.NewLabel(u.a.cfg.DataDir)),
	)
	form.Items[0].HintText = "How long without keyboard or mouse before work may start"
	form.Items[3].HintText = "When Spare may work, in local time"
	save := widget.NewButton("Save", f.save)
	save.Importance = widget.HighImportance
	f.box = container.NewVBox(form, container.NewHBox(save), f.result)
	return f
}

func (f *settingsForm) load(s Settings) {
	f.idle.SetText(strconv.Itoa(s.IdleMinutes))
	f.battery.SetChecked(s.RunOnBattery)
	f.maxTemp.SetText(strconv.Itoa(s.MaxTempC))
	f.schedule.SetText(s.Schedule)
	f.price.SetText(s.PriceFloor)
	f.workloads.SetSelected(s.Workloads)
	f.login.SetChecked(s.StartAtLogin)
}

// read turns the form into Settings, or says which field is wrong.
func (f *settingsForm) read() (Settings, error) {
	s := f.u.settings
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
	s.Workloads = append([]string(nil), f.workloads.Selected...)
	s.StartAtLogin = f.login.Checked
	return s, s.Validate()
}

func (f *settingsForm) save() {
	s, err := f.read()
	if err == nil {
		err = SaveSettings(f.u.a.cfg.DataDir, s)
	}
	if err == nil && s.StartAtLogin != f.u.settings.StartAtLogin {
		exe, eerr := os.Executable()
		if eerr == nil {
			eerr = Autostart(s.StartAtLogin, exe)
		}
		err = eerr
	}
	if err != nil {
		f.result.Importance = widget.DangerImportance
		f.result.SetText(err.Error())
		return
	}
	f.u.settings = s
	f.result.Importance = widget.SuccessImportance
	f.result.SetText("Saved. A daemon the app starts uses idle minutes, battery and temperature; a running daemon does not apply settings yet.")
}
