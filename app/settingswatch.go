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
	f := &settingsFollower{dir: dataDir, last: known, log: log, apply: apply}
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(dataDir); err != nil {
			w.Close()
		}
	}
	if err != nil {
		log.Warn("cannot watch the settings file; looking at it every few seconds", "every", settingsPollEvery, "err", err)
		return f.poll(ctx, settingsPollEvery)
	}
	defer w.Close()
	f.reload() // a change made before the watch began
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			// The file is replaced by a rename (atomicfile): the
			// directory is watched, and the name told.
			if filepath.Base(ev.Name) == SettingsFile {
				f.reload()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// Events were dropped (the queue overflowed): read it anyway.
			log.Warn("watching the settings file", "err", err)
			f.reload()
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

// poll is followSettings without the system's help: the file is read
// again when its size, time or identity changed.
func (f *settingsFollower) poll(ctx context.Context, every time.Duration) error {
	p := filepath.Join(f.dir, SettingsFile)
	var seen os.FileInfo
	changed := func() bool {
		fi, err := os.Stat(p)
		if err != nil {
			fi = nil
		}
		same := (fi == nil) == (seen == nil) &&
			(fi == nil || fi.Size() == seen.Size() && fi.ModTime().Equal(seen.ModTime()) && os.SameFile(fi, seen))
		seen = fi
		return !same
	}
	changed()
	f.reload()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if changed() {
				f.reload()
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
