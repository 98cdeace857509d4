package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

// sensePresence is the app's presence sensor: it watches this session's
// input, lock and fullscreen programs and pushes each reading to the
// daemon. A push that fails (daemon restarting) is dropped; the next
// reading follows within a heartbeat.
func (a *App) sensePresence(ctx context.Context) error {
	select { // nothing to push to before setup is done (Config.Setup)
	case <-a.setUp:
	case <-ctx.Done():
		return nil
	}
	return sensePresence(ctx, a.cfg.Client, a.cfg.Log, a.setSensorNote)
}

// probePresence is the window beside a tray process: the tray process
// senses presence, and the window says what the sensor would say when it
// cannot see this session's input (the same session, the same reasons).
func (a *App) probePresence(ctx context.Context) error {
	err := presence.Probe(ctx, presence.Options{Logger: a.cfg.Log})
	if errors.Is(err, presence.ErrUnsupported) {
		a.setSensorNote(sensorNote(err))
		return nil
	}
	return err
}

func (a *App) setSensorNote(note string) {
	a.mu.Lock()
	a.sensorNote = note
	a.mu.Unlock()
	a.publish()
}

// sensePresence pushes this session's presence to the daemon until ctx
// ends; where the session cannot be watched, unsupported is told why in
// the owner's words and it returns nil.
func sensePresence(ctx context.Context, d Daemon, log *slog.Logger, unsupported func(note string)) error {
	err := presence.Watch(ctx, presence.Options{Logger: log}, func(r presence.Report) {
		rep := localapi.PresenceReport{IdleMS: r.Idle.Milliseconds(), IdleKnown: r.IdleKnown,
			Locked: r.Locked || r.Sleeping, Game: r.Game, Source: r.Source} // the daemon marks it "app:"
		if err := d.ReportPresence(ctx, rep); err != nil && ctx.Err() == nil {
			log.Debug("pushing presence", "err", err)
		}
	})
	if errors.Is(err, presence.ErrUnsupported) {
		log.Warn("the app cannot see this session's input", "why", err)
		unsupported(sensorNote(err))
		return nil
	}
	return err
}

// sensorNote is the warning for a session whose input the sensor cannot
// see (err wraps presence.ErrUnsupported), on one line: each backend's
// reason follows the last.
func sensorNote(err error) string {
	why := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	return "Spare cannot see your keyboard and mouse in this session (" + why + "), so it cannot tell when you are away."
}
