package app

import (
	"context"
	"errors"
	"time"

	"fyne.io/systray"

	"github.com/sparegpu/spare/assets"
	"github.com/sparegpu/spare/localapi"
)

// followDaemon keeps the event stream open, reconnecting (and starting a
// daemon when configured and none answers), and draws each status in the
// menu, as App.followDaemon does for the window app.
func (t *trayProc) followDaemon(ctx context.Context) error {
	backoff := 500 * time.Millisecond
	for {
		err := t.cfg.Client.Events(ctx, func(s localapi.Status) {
			t.show(Derive(s, nil, Details{}, time.Now()))
		})
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("the daemon closed the event stream")
		}
		shown := err
		t.mu.Lock()
		if t.owned != nil {
			if ferr := t.owned.failed(); ferr != nil && errors.Is(err, localapi.ErrNoDaemon) {
				shown = ferr // its own words say more than "none runs"
			}
		}
		t.mu.Unlock()
		t.show(Derive(localapi.Status{}, shown, Details{}, time.Now()))
		if errors.Is(err, localapi.ErrNoDaemon) && len(t.cfg.DaemonCommand) > 0 {
			if serr := t.startDaemon(); serr != nil {
				t.log.Error("starting a daemon", "err", serr)
				t.show(Derive(localapi.Status{}, serr, Details{}, time.Now()))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (t *trayProc) startDaemon() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.owned != nil && t.owned.running() {
		return nil
	}
	d, err := startDaemon(t.cfg.DaemonCommand, t.cfg.DaemonStopped, t.log)
	if err != nil {
		return err
	}
	t.owned = d
	t.log.Info("started a daemon for this session", "argv", t.cfg.DaemonCommand)
	return nil
}

// show draws a view in the menu and icon and sends the notifications
// that the change from the last view calls for (the window app's
// publish, without a window).
func (t *trayProc) show(v View) {
	t.mu.Lock()
	var notes []Notification
	switch {
	case t.noticed:
		notes = Notices(t.prev, v, !t.seenPay)
	case v.Connected && !t.seenPay && !isZeroAmount(v.EarnedToday):
		notes = []Notification{firstEarnings(v)} // earned while Spare was not running
	}
	told := false
	for _, n := range notes {
		told = told || n.Kind == FirstEarnings
	}
	t.seenPay = t.seenPay || told
	t.noticed = t.noticed || v.Connected
	t.prev = v
	t.mu.Unlock()
	if told {
		notes = tellFirstEarningsOnce(t.cfg.DataDir, notes, t.log)
	}
	t.render(v)
	for _, n := range notes {
		notify(n.Title, n.Body, t.log)
	}
}

// render sets the menu's lines and the icon. The entries change in place
// (their IDs stay), so the status line may follow the brief sentence.
func (t *trayProc) render(v View) {
	t.status.SetTitle(v.Brief)
	t.today.SetTitle(v.TodayLine())
	setItemEnabled(t.pause, v.CanPause)
	setItemEnabled(t.resume, v.CanResume)
	t.mu.Lock()
	changed := v.Icon != t.icon
	t.icon = v.Icon
	t.mu.Unlock()
	if changed {
		t.setIcon(v.Icon)
	}
}

// showSensor shows the sensor line for note ("": hides it); the window
// process probes the session itself and shows the note in full.
func (t *trayProc) showSensor(note string) {
	line := sensorLine(note)
	if line == "" {
		t.sensor.Hide()
		return
	}
	t.log.Warn(note)
	t.sensor.SetTitle(line)
	t.sensor.Show()
}

func setItemEnabled(it interface {
	Enable()
	Disable()
	Disabled() bool
}, on bool) {
	switch {
	case on && it.Disabled():
		it.Enable()
	case !on && !it.Disabled():
		it.Disable()
	}
}

func (t *trayProc) setIcon(s assets.TrayState) {
	r, err := trayResource(s)
	if err != nil {
		t.log.Error("drawing the tray icon", "err", err)
		return
	}
	systray.SetIcon(r.Content())
}
