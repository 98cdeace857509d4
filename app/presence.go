package app

import (
	"context"
	"errors"
	"log/slog"

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
	return sensePresence(ctx, a.cfg.Client, a.cfg.Log, func(note string) {
		a.mu.Lock()
		a.sensorNote = note
		a.mu.Unlock()
		a.publish()
	})
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
		unsupported("Spare cannot see your keyboard and mouse in this session (" + err.Error() + "), so it cannot tell when you are away.")
		return nil
	}
	return err
}
