package app

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/sparegpu/spare/localapi"
)

// Daemon is what the app asks of the daemon's state; *localapi.Client has it.
type Daemon interface {
	Events(ctx context.Context, fn func(localapi.Status)) error
	Pause(ctx context.Context, p localapi.PauseRequest) (localapi.Status, error)
	Resume(ctx context.Context) (localapi.Status, error)
	ReportPresence(ctx context.Context, r localapi.PresenceReport) error
}

// walletAPI is the daemon's wallet, as the Earnings and Wallet pages use it.
type walletAPI interface {
	Wallet(ctx context.Context) (localapi.Wallet, error)
	Withdraw(ctx context.Context, r localapi.WithdrawRequest) (localapi.WithdrawResult, error)
	ExportKeystore(ctx context.Context, r localapi.ExportRequest, path string) (localapi.ExportResult, error)
}

// settingsAPI is the owner's settings, kept and applied by the daemon.
type settingsAPI interface {
	Settings(ctx context.Context) (localapi.Settings, error)
	UpdateSettings(ctx context.Context, s localapi.Settings) (localapi.Settings, error)
}

// monitorAPI is what the GPU and Job pages show.
type monitorAPI interface {
	Telemetry(ctx context.Context) (localapi.Telemetry, error)
	Job(ctx context.Context) (*localapi.Job, error)
}

// householdAPI is the household's machines.
type householdAPI interface {
	Household(ctx context.Context) (localapi.Household, error)
	HouseholdCommand(ctx context.Context, c localapi.HouseholdCommand) (localapi.Machine, error)
	PairCode(ctx context.Context) (localapi.PairCode, error)
	Pair(ctx context.Context, code string) (localapi.Machine, error)
}

// Client is everything the app asks of the daemon: the LocalAPI client.
type Client interface {
	Daemon
	walletAPI
	settingsAPI
	monitorAPI
	householdAPI
}

var _ Client = (*localapi.Client)(nil)

// Config wires an App. Client and DataDir are required.
type Config struct {
	DataDir string
	Client  Client
	// DetailsEvery is how often the wallet, telemetry and job are read
	// again besides the changes the event stream announces. Zero: 10 s.
	DetailsEvery time.Duration
	// Doctor runs the machine checks for onboarding. Nil: skipped.
	Doctor func(ctx context.Context) []Check
	// DaemonCommand starts a daemon when none answers (argv). Empty: the
	// app only connects.
	DaemonCommand []string
	// DaemonStopped runs once the daemon the app started has stopped
	// (argv; Windows: `wsl --terminate Spare`). Empty: nothing.
	DaemonStopped []string
	// Presence makes the app the session's presence sensor.
	Presence bool
	// ProbePresence, where another process (the tray process) is the
	// sensor, checks once whether this session's input can be seen and
	// shows the sensor's warning when it cannot.
	ProbePresence bool
	// Session says whether a D-Bus session bus and a tray host exist.
	// Nil: probed.
	Session *SessionInfo
	Log     *slog.Logger
	// OnFirstWindow is called once the window is shown (launch timing).
	OnFirstWindow func()
	// SettleAfter is how quiet the app must be, after its window opens or
	// closes to the tray, before it hands memory it no longer uses back
	// to the system. Zero: DefaultSettleAfter.
	SettleAfter time.Duration
	// Login turns start at login on and off (cmd/spare: the system's
	// autostart mechanism). Nil: the setting is not offered.
	Login LoginItem
	// About is the About page's version, licence and notices.
	About About
	// WindowOnly makes this process the window alone, beside a tray
	// process (RunTray) that holds the tray icon, sends the notifications
	// and senses presence: no tray here, no notifications, and closing
	// the window ends the process (the tray stays).
	WindowOnly bool
	// WSL is the user's .wslconfig and the PC's size where jobs run in
	// WSL 2 (Windows): the app asks to set its limits (wslscreen.go).
	// Nil elsewhere.
	WSL *WSLConfig
	// Setup runs once before the daemon is reached (Windows: importing
	// Spare's WSL distribution on first run). Nil: none.
	Setup *Setup
}

// LoginItem is the system's start-at-login switch for the app.
type LoginItem interface {
	// Enabled reports whether the app starts at the next login.
	Enabled() (bool, error)
	// Set makes exe (run with no arguments) start at login, or not.
	Set(on bool, exe string) error
}

// drawMu keeps draws in order where fyne.Do runs on the caller (the
// test driver), as the window driver's one UI thread does: across App
// values too, since the toolkit's caches are the process's (tests run
// two windows of the app in one process).
var drawMu sync.Mutex

// DefaultSettleAfter is Config.SettleAfter's default: long enough for the
// first details, charts and fonts to be loaded.
const DefaultSettleAfter = 15 * time.Second

// detailsEvery is how often the details are read without an event.
const detailsEvery = 10 * time.Second

// App is the running desktop app.
type App struct {
	cfg  Config
	log  *slog.Logger
	fy   fyne.App
	ui   *UI
	tray *tray

	mu      sync.Mutex // guards what the goroutines feed in
	status  localapi.Status
	connErr error
	// daemonErr is why the daemon the app started last ended (its last
	// words), until a daemon answers again.
	daemonErr error
	details   Details
	want      fetch         // details to read again
	kick      chan struct{} // wakes followDetails
	settle    chan struct{} // restarts releaseWhenSettled's wait
	prev      View
	seenPay   bool
	// sensorNote says why the app cannot sense presence ("" when it can).
	sensorNote string
	noticeOK   bool

	wg     sync.WaitGroup
	ctx    context.Context // Start's; ends on Quit
	cancel context.CancelFunc
	owned  *ownedDaemon
	quit   sync.Once
	// setUp is closed once Config.Setup has succeeded (at once without
	// one): nothing reaches the daemon before.
	setUp chan struct{}
	// loaded is the settings file as New read it (followSettings' start).
	loaded Settings
	// onSettings, when set (tests), is called after settings another
	// process saved were taken in.
	onSettings func(Settings)
	// retry is Try again after a failed setup (setUpOnce).
	retry chan struct{}
}

// New builds the app on a Fyne app (app.NewWithID in cmd/spare,
// test.NewTempApp in tests). It shows nothing until Start.
func New(fy fyne.App, cfg Config) *App {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	a := &App{cfg: cfg, log: cfg.Log.With("component", "app"), fy: fy, connErr: errors.New("connecting…"),
		kick: make(chan struct{}, 1), settle: make(chan struct{}, 1), setUp: make(chan struct{}), retry: make(chan struct{}, 1)}
	if a.cfg.SettleAfter <= 0 {
		a.cfg.SettleAfter = DefaultSettleAfter
	}
	if cfg.WindowOnly {
		// The tray is the tray process's: closing the window ends this one.
		a.cfg.Session = &SessionInfo{Bus: true}
	} else if cfg.Session == nil {
		s := ProbeSession()
		a.cfg.Session = &s
	}
	settings, err := LoadSettings(cfg.DataDir)
	if err != nil {
		a.log.Warn("reading settings; using defaults", "err", err)
	}
	a.seenPay, a.loaded = settings.FirstEarningsShown, settings
	drawMu.Lock()
	defer drawMu.Unlock()
	a.ui = newUI(fy, a, settings, *a.cfg.Session)
	a.tray = newTray(fy, a, *a.cfg.Session)
	return a
}

// UI returns the window's widgets (tests).
func (a *App) UI() *UI { return a.ui }

// Start shows the window and starts the app's goroutines; they stop when
// ctx ends or Quit is chosen. It does not block.
func (a *App) Start(ctx context.Context) {
	ctx, a.cancel = context.WithCancel(ctx)
	a.ctx = ctx
	a.publish() // first frame: connecting
	drawMu.Lock()
	a.ui.show(a.cfg.OnFirstWindow)
	a.ui.askWSLLimits()
	drawMu.Unlock()
	a.goRun(ctx, "daemon", a.followDaemon)
	a.goRun(ctx, "details", a.followDetails)
	a.goRun(ctx, "release", a.releaseWhenSettled)
	files := map[string]func(){SettingsFile: settingsHandler(a.cfg.DataDir, a.loaded, a.log, a.takeSettings)}
	if !a.cfg.WindowOnly { // the window process's tray process follows them
		files[OpenRequestFile] = openRequestHandler(a.cfg.DataDir, a.log, a.Raise)
	}
	a.goRun(ctx, "settings", func(ctx context.Context) error { return watchFiles(ctx, a.cfg.DataDir, a.log, files) })
	if a.cfg.Presence {
		a.goRun(ctx, "presence", a.sensePresence)
	} else if a.cfg.ProbePresence {
		a.goRun(ctx, "presence", a.probePresence)
	}
	if a.cfg.Doctor != nil && !a.ui.settings.Onboarded {
		a.goRun(ctx, "doctor", a.runDoctor)
	}
}

// Run starts the app and blocks in the Fyne event loop until Quit, or
// until ctx ends (SIGTERM).
func (a *App) Run(ctx context.Context) error {
	a.Start(ctx)
	parent := ctx
	// Quit ends a running event loop and does nothing before it runs: a
	// SIGTERM that comes during start-up is acted on once the loop has
	// started. (Once it runs, the toolkit's own SIGTERM handler may act
	// first; Quit after that is harmless.)
	started, ran := make(chan struct{}), make(chan struct{})
	a.fy.Lifecycle().SetOnStarted(func() { close(started) })
	a.goRun(a.ctx, "signal", func(ctx context.Context) error {
		<-ctx.Done() // Quit was chosen, or ctx (a parent) ended
		if parent.Err() == nil {
			return nil // Quit: the loop is ending
		}
		select {
		case <-started: // SIGTERM: end the event loop as Quit does
			fyne.Do(a.Quit)
		case <-ran:
		}
		return nil
	})
	a.fy.Run()
	close(ran)
	a.Stop()
	return nil
}

// Stop ends the goroutines and, when the app started the daemon, stops it.
func (a *App) Stop() {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	a.mu.Lock()
	owned := a.owned
	a.owned = nil
	a.mu.Unlock()
	if owned != nil {
		if err := owned.stop(stopperOf(a.cfg.Client), 20*time.Second); err != nil {
			a.log.Warn("stopping the daemon the app started", "err", err)
		}
	}
}

// Quit is the menu's Quit: it ends the event loop; Run then stops the rest.
//
// It ends the loop as the toolkit's own SIGTERM handler does (the driver's
// Quit, which may be called again and after the loop has ended), not as
// fyne's App.Quit: that first closes each window, which panics in GLFW
// once the loop has ended (the toolkit's handler and the app's may both
// act on one SIGTERM), and stops the settings file watcher, which panics
// when inotify had no instance left for it (a busy desktop). The process
// is ending; its windows and the watcher go with it.
func (a *App) Quit() {
	a.quit.Do(func() {
		if a.cancel != nil {
			a.cancel()
		}
		a.fy.Driver().Quit()
	})
}

// releaseWhenSettled returns the free pages of the Go heap to the system
// once the app has been quiet for SettleAfter since it started or since
// its window last closed to the tray. The app then idles for hours; Go's
// own scavenger keeps up to a heap goal's worth of pages resident, and
// the start (fonts, first details) leaves more than that free; this gives
// it back at the cost of one collection.
func (a *App) releaseWhenSettled(ctx context.Context) error {
	t := time.NewTimer(a.cfg.SettleAfter)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.settle:
			t.Reset(a.cfg.SettleAfter)
		case <-t.C:
			debug.FreeOSMemory()
		}
	}
}

// settled restarts the wait before memory is handed back (the window
// closed to the tray).
func (a *App) settled() {
	select {
	case a.settle <- struct{}{}:
	default:
	}
}

func (a *App) goRun(ctx context.Context, name string, f func(context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Warn(name+" stopped", "err", err)
		}
	}()
}

// draw runs fn on the UI thread (fyne.Do), one draw at a time.
func (a *App) draw(fn func()) {
	drawMu.Lock()
	defer drawMu.Unlock()
	fyne.Do(fn)
}

// Inspect runs fn on the UI thread and waits for it, after any draw in
// progress (tests read widgets with it).
func (a *App) Inspect(fn func()) {
	drawMu.Lock()
	defer drawMu.Unlock()
	fyne.DoAndWait(fn)
}

// publish derives the view from the latest inputs and draws it.
func (a *App) publish() {
	a.mu.Lock()
	v := Derive(a.status, a.connErr, a.details, time.Now())
	v.SensorNote, v.SessionNote = a.sensorNote, a.cfg.Session.Why
	var notes []Notification
	switch {
	case a.cfg.WindowOnly: // the tray process tells
	case a.noticeOK:
		notes = Notices(a.prev, v, !a.seenPay)
	case v.Connected && !a.seenPay && !isZeroAmount(v.EarnedToday):
		// The first view says nothing changed, except that earnings
		// made while the app was not running were never announced.
		notes = []Notification{firstEarnings(v)}
	}
	told := false // the first earnings, now
	for _, n := range notes {
		told = told || n.Kind == FirstEarnings
	}
	a.seenPay = a.seenPay || told
	if v.Connected {
		a.noticeOK = true
	}
	a.prev = v
	a.mu.Unlock()
	if told {
		notes = tellFirstEarningsOnce(a.cfg.DataDir, notes, a.log)
	}
	a.draw(func() {
		a.ui.render(v)
		a.tray.render(v)
		for _, n := range notes {
			a.fy.SendNotification(fyne.NewNotification(n.Title, n.Body))
		}
		if told {
			a.ui.settings.FirstEarningsShown = true
		}
	})
}

// publishWords draws a status that differs from the last only in its
// words (the sentence counts down): the status line and the tray's, not
// every page again.
func (a *App) publishWords(s localapi.Status) {
	a.mu.Lock()
	v := a.prev
	v.Sentence, v.Brief = s.Sentence, s.Brief
	if v.Brief == "" {
		v.Brief = v.Sentence
	}
	a.prev = v
	a.mu.Unlock()
	a.draw(func() {
		a.ui.sentence.SetText(v.Sentence)
		a.tray.render(v)
	})
}

// onlyWords reports whether two statuses differ only in their words and
// the time they were rendered.
func onlyWords(prev, next localapi.Status) bool {
	prev.Sentence, prev.Brief, prev.Updated = "", "", time.Time{}
	next.Sentence, next.Brief, next.Updated = "", "", time.Time{}
	return reflect.DeepEqual(prev, next)
}

// followDaemon keeps the event stream open, reconnecting (and starting a
// daemon when configured and none answers).
func (a *App) followDaemon(ctx context.Context) error {
	if !a.setUpOnce(ctx) {
		return nil // ended before setup succeeded: nothing to reach
	}
	close(a.setUp)
	backoff := 500 * time.Millisecond
	for {
		first := true
		err := a.cfg.Client.Events(ctx, func(s localapi.Status) {
			a.mu.Lock()
			prev := a.status
			a.status, a.connErr, a.daemonErr = s, nil, nil
			a.mu.Unlock()
			if !first && onlyWords(prev, s) {
				a.publishWords(s) // the countdown, once a second
				return
			}
			a.refetch(whatChanged(prev, s, first))
			first = false
			a.publish()
		})
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("the daemon closed the event stream")
		}
		a.mu.Lock()
		if a.owned != nil {
			if ferr := a.owned.failed(); ferr != nil {
				a.daemonErr = ferr
			}
		}
		a.connErr = err
		if a.daemonErr != nil && errors.Is(err, localapi.ErrNoDaemon) {
			a.connErr = a.daemonErr // its own words say more than "none runs"
		}
		a.mu.Unlock()
		a.publish()
		if errors.Is(err, localapi.ErrNoDaemon) && len(a.cfg.DaemonCommand) > 0 {
			if serr := a.startDaemon(ctx); serr != nil {
				a.log.Error("starting a daemon", "err", serr)
				a.mu.Lock()
				a.connErr = serr
				a.mu.Unlock()
				a.publish()
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

func (a *App) startDaemon(ctx context.Context) error {
	a.mu.Lock()
	running := a.owned != nil && a.owned.running()
	a.mu.Unlock()
	if running {
		return nil
	}
	d, err := startDaemon(a.cfg.DaemonCommand, a.cfg.DaemonStopped, a.log)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.owned = d
	a.mu.Unlock()
	a.log.Info("started a daemon for this session", "argv", a.cfg.DaemonCommand)
	return nil
}

// pause and resume are the menu's commands: a LocalAPI call each; the new
// state arrives over the event stream.
func (a *App) pause(req localapi.PauseRequest) {
	a.command(func(ctx context.Context) error { _, err := a.cfg.Client.Pause(ctx, req); return err })
}

func (a *App) resume() {
	a.command(func(ctx context.Context) error { _, err := a.cfg.Client.Resume(ctx); return err })
}

// command runs a LocalAPI call off the UI thread and shows its error.
func (a *App) command(f func(context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			a.log.Error("daemon command failed", "err", err)
			a.draw(func() { a.ui.showError(err) })
		}
	}()
}
