package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"runtime/debug"
	"sync"
	"time"

	"fyne.io/systray"

	"github.com/sparegpu/spare/assets"
	"github.com/sparegpu/spare/localapi"
)

// TrayConfig wires the tray process: the tray icon, its menu, the
// notifications and the presence sensor, without a window toolkit. The
// window is a process of its own (WindowCommand), started when the owner
// opens it and gone when they close it, so that while Spare sits in the
// tray no GL stack is resident.
type TrayConfig struct {
	DataDir string
	Client  Daemon
	// DaemonCommand starts a daemon when none answers (argv); the tray
	// process owns it and stops it on Quit. Empty: the tray only connects.
	DaemonCommand []string
	// DaemonStopped: as Config.DaemonStopped.
	DaemonStopped []string
	// WindowCommand starts the window process (argv). Required.
	WindowCommand []string
	// OpenAtStart opens the window as the tray starts (`spare` opens it).
	OpenAtStart bool
	// Presence makes the tray process the session's presence sensor.
	Presence bool
	// SettleAfter: as Config.SettleAfter. Zero: DefaultSettleAfter.
	SettleAfter time.Duration
	Log         *slog.Logger
}

// trayProc is the running tray process.
type trayProc struct {
	cfg TrayConfig
	log *slog.Logger
	wg  sync.WaitGroup

	status, today, pause, pause1h, pauseTmrw, pauseOpen, resume, open, quit *systray.MenuItem
	// sensor is the line saying the presence sensor cannot see this
	// session's input, hidden while it can (buildMenu's sensor entry).
	sensor *systray.MenuItem

	mu      sync.Mutex
	icon    assets.TrayState
	prev    View
	seenPay bool
	noticed bool // a connected view was drawn: later changes are notified
	window  *exec.Cmd
	winDone chan struct{}
	owned   *ownedDaemon
}

// RunTray holds the tray icon until Quit is chosen or ctx ends (SIGTERM),
// then ends the window process and the daemon it started.
func RunTray(ctx context.Context, cfg TrayConfig) error {
	if len(cfg.WindowCommand) == 0 {
		return errors.New("tray: no window command")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SettleAfter <= 0 {
		cfg.SettleAfter = DefaultSettleAfter
	}
	t := &trayProc{cfg: cfg, log: cfg.Log.With("component", "tray")}
	settings, err := LoadSettings(cfg.DataDir)
	if err != nil {
		t.log.Warn("reading settings; using defaults", "err", err)
	}
	t.seenPay = settings.FirstEarningsShown

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The tray icon shows while run runs, in the system's own event loop
	// (trayproc_linux.go, trayproc_windows.go).
	runTrayLoop(t.build, func() { t.run(ctx, cancel, settings) }, cancel)
	t.mu.Lock()
	owned := t.owned
	t.mu.Unlock()
	if owned != nil {
		if err := owned.stop(stopperOf(t.cfg.Client), 20*time.Second); err != nil {
			t.log.Warn("stopping the daemon the tray started", "err", err)
		}
	}
	return nil
}

// run follows the daemon and answers the menu until Quit or ctx ends,
// then ends the window process. settings are as RunTray read them: the
// start of followSettings.
func (t *trayProc) run(ctx context.Context, cancel context.CancelFunc, settings Settings) {
	t.setIcon(assets.Waiting)
	t.render(Derive(localapi.Status{}, errors.New("connecting…"), Details{}, time.Now()))

	t.goRun(ctx, "daemon", t.followDaemon)
	t.goRun(ctx, "settings", func(ctx context.Context) error {
		return watchFiles(ctx, t.cfg.DataDir, t.log, map[string]func(){
			SettingsFile:    settingsHandler(t.cfg.DataDir, settings, t.log, t.takeSettings),
			OpenRequestFile: openRequestHandler(t.cfg.DataDir, t.log, t.openWindow),
		})
	})
	if t.cfg.Presence {
		t.goRun(ctx, "presence", func(ctx context.Context) error {
			return sensePresence(ctx, t.cfg.Client, t.cfg.Log, t.showSensor)
		})
	}
	if t.cfg.OpenAtStart {
		t.openWindow()
	}
	// The start (the tray's connection, the first statuses) leaves free
	// heap behind; the tray then idles for days.
	settle := time.AfterFunc(t.cfg.SettleAfter, debug.FreeOSMemory)
	defer settle.Stop()

	t.loop(ctx, cancel)
	cancel()
	t.wg.Wait()
	t.closeWindow()
}

// build makes the menu: the same entries, labels and order as the
// window app's tray (buildMenu). Entries are made once and changed in
// place, so their IDs stay valid for a host that read the menu before.
func (t *trayProc) build() {
	systray.SetTitle("Spare")
	systray.SetTooltip("Spare")
	t.status = systray.AddMenuItem("Connecting to Spare…", "")
	t.status.Disable()
	t.today = systray.AddMenuItem("Earned today: —", "")
	t.today.Disable()
	t.sensor = systray.AddMenuItem(labelNoSensor, "")
	t.sensor.Disable()
	t.sensor.Hide()
	systray.AddSeparator()
	t.pause = systray.AddMenuItem(labelPause, "")
	t.pause1h = t.pause.AddSubMenuItem(labelPause1h, "")
	t.pauseTmrw = t.pause.AddSubMenuItem(labelPauseTmrw, "")
	t.pauseOpen = t.pause.AddSubMenuItem(labelPauseOpen, "")
	t.resume = systray.AddMenuItem(labelResume, "")
	systray.AddSeparator()
	t.open = systray.AddMenuItem(labelOpen, "")
	t.quit = systray.AddMenuItem(labelQuit, "")
	systray.SetOnTapped(t.openWindow)
}

// loop answers the menu until Quit or ctx ends.
func (t *trayProc) loop(ctx context.Context, cancel context.CancelFunc) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.pause1h.ClickedCh:
			t.command(func(ctx context.Context) error {
				_, err := t.cfg.Client.Pause(ctx, localapi.PauseRequest{For: "1h"})
				return err
			})
		case <-t.pauseTmrw.ClickedCh:
			t.command(func(ctx context.Context) error {
				_, err := t.cfg.Client.Pause(ctx, localapi.PauseRequest{Until: "tomorrow"})
				return err
			})
		case <-t.pauseOpen.ClickedCh:
			t.command(func(ctx context.Context) error {
				_, err := t.cfg.Client.Pause(ctx, localapi.PauseRequest{})
				return err
			})
		case <-t.resume.ClickedCh:
			t.command(func(ctx context.Context) error { _, err := t.cfg.Client.Resume(ctx); return err })
		case <-t.open.ClickedCh:
			t.openWindow()
		case <-t.quit.ClickedCh:
			cancel()
			return
		}
	}
}

// command runs a LocalAPI call off the menu loop; a failure is notified
// (the window, which showed it before, may not be open).
func (t *trayProc) command(f func(context.Context) error) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			t.log.Error("daemon command failed", "err", err)
			notify("Spare could not do that", err.Error(), t.log)
		}
	}()
}

// openWindow starts the window process, or raises it when it runs.
func (t *trayProc) openWindow() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.window != nil {
		select {
		case <-t.winDone:
		default:
			if err := raiseWindow(t.window.Process); err != nil {
				t.log.Warn("raising the window", "err", err)
			}
			return
		}
	}
	argv := t.cfg.WindowCommand
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = windowProcAttr()
	if err := cmd.Start(); err != nil {
		t.log.Error("opening the window", "err", err)
		notify("Spare could not open its window", err.Error(), t.log)
		return
	}
	holdWindow(cmd.Process, t.log)
	done := make(chan struct{})
	t.window, t.winDone = cmd, done
	go func() { // owned by the window process: ends when it exits
		err := cmd.Wait()
		close(done)
		t.log.Info("the window closed", "err", err)
		// Its pages are the system's again; give back what its start left free here.
		debug.FreeOSMemory()
	}()
}

// closeWindow ends the window process (Quit) and waits for it.
func (t *trayProc) closeWindow() {
	t.mu.Lock()
	cmd, done := t.window, t.winDone
	t.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := askWindowToClose(cmd.Process); err != nil {
		t.log.Warn("asking the window to close", "err", err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.log.Warn("the window did not end within 20 s of being asked to; killing it")
		_ = cmd.Process.Kill()
		<-done
	}
}

func (t *trayProc) goRun(ctx context.Context, name string, f func(context.Context) error) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.log.Warn(name+" stopped", "err", err)
		}
	}()
}
