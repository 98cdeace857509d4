package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settingsPollEvery is how often the settings file is looked at where the
// system cannot tell its changes (no inotify instance left: a busy
// desktop).
const settingsPollEvery = 2 * time.Second

// followSettings tells apply the settings each time the file changes,
// whichever process of the app changed it (the tray process and the
// window process both write it), until ctx ends. known is what the
// caller read at its start: a change made since is told too. A file that
// cannot be read or fails validation is ignored with a warning, and the
// last good settings stay; apply is called only with settings that
// differ from the last ones told.
func followSettings(ctx context.Context, dataDir string, known Settings, log *slog.Logger, apply func(Settings)) error {
	return watchFiles(ctx, dataDir, log, map[string]func(){SettingsFile: settingsHandler(dataDir, known, log, apply)})
}

// settingsHandler is followSettings' handler for watchFiles.
func settingsHandler(dataDir string, known Settings, log *slog.Logger, apply func(Settings)) func() {
	f := &settingsFollower{dir: dataDir, last: known, log: log, apply: apply}
	return f.reload
}

// watchFiles calls the handler of each file named in handlers whenever
// that file in dir may have changed (written, created, removed, or
// replaced by a rename, as atomicfile does), and each once at the start
// for a change made before the watch began, until ctx ends. One watch
// serves them all: a desktop has few inotify instances to spare. Where
// the system cannot tell (none left) it looks every settingsPollEvery.
// Each handler decides whether anything changed.
func watchFiles(ctx context.Context, dir string, log *slog.Logger, handlers map[string]func()) error {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(dir); err != nil {
			w.Close()
		}
	}
	if err != nil {
		log.Warn("cannot watch the app's files; looking at them every few seconds", "every", settingsPollEvery, "err", err)
		return pollFiles(ctx, dir, settingsPollEvery, handlers)
	}
	defer w.Close()
	for _, h := range handlers {
		h()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			// The directory is watched, and the name told.
			if h := handlers[filepath.Base(ev.Name)]; h != nil {
				h()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// Events were dropped (the queue overflowed): look anyway.
			log.Warn("watching the app's files", "err", err)
			for _, h := range handlers {
				h()
			}
		}
	}
}

// settingsFollower is followSettings' state: the last good settings.
type settingsFollower struct {
	dir   string
	last  Settings
	log   *slog.Logger
	apply func(Settings)
}

// reload reads the file and tells apply when it changed.
func (f *settingsFollower) reload() {
	s, err := LoadSettings(f.dir)
	if err != nil {
		f.log.Warn("ignoring the settings file as it is now; keeping the last good settings", "err", err)
		return
	}
	if s == f.last {
		return
	}
	f.last = s
	f.apply(s)
}

// pollFiles is watchFiles without the system's help: a file's handler is
// called when its size, time or identity changed.
func pollFiles(ctx context.Context, dir string, every time.Duration, handlers map[string]func()) error {
	seen := map[string]os.FileInfo{}
	differs := func(name string) bool {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			fi = nil
		}
		was := seen[name]
		same := (fi == nil) == (was == nil) &&
			(fi == nil || fi.Size() == was.Size() && fi.ModTime().Equal(was.ModTime()) && os.SameFile(fi, was))
		seen[name] = fi
		return !same
	}
	for name, h := range handlers {
		differs(name)
		h()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for name, h := range handlers {
				if differs(name) {
					h()
				}
			}
		}
	}
}

// takeSettings takes in the settings file as another process of the app
// (or this one) saved it: the first earnings told there are not told
// here, and onboarding done there is done here. What this process has
// marked done stays done, whatever the file says now.
func (a *App) takeSettings(s Settings) {
	a.mu.Lock()
	a.seenPay = a.seenPay || s.FirstEarningsShown
	a.mu.Unlock()
	a.draw(func() {
		s := s
		u := a.ui
		was := u.settings
		s.Onboarded = s.Onboarded || was.Onboarded
		s.FirstEarningsShown = s.FirstEarningsShown || was.FirstEarningsShown
		u.settings = s
		if s.Onboarded && !was.Onboarded && u.onboard != nil {
			u.w.SetContent(u.tabs) // the checks were seen in another window
		}
		if a.onSettings != nil {
			a.onSettings(s)
		}
	})
}

// takeSettings is App.takeSettings for the tray process: it tells the
// first earnings only where no process of the app told them.
func (t *trayProc) takeSettings(s Settings) {
	t.mu.Lock()
	t.seenPay = t.seenPay || s.FirstEarningsShown
	t.mu.Unlock()
}
