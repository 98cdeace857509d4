package app

import (
	"context"
	"errors"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

// sensePresence is the app's presence sensor: it watches this session's
// input, lock and fullscreen programs and pushes each reading to the
// daemon. A push that fails (daemon restarting) is dropped; the next
// reading follows within a heartbeat.
func (a *App) sensePresence(ctx context.Context) error {
	err := presence.Watch(ctx, presence.Options{Logger: a.cfg.Log}, func(r presence.Report) {
		rep := localapi.PresenceReport{IdleMS: r.Idle.Milliseconds(), IdleKnown: r.IdleKnown,
			Locked: r.Locked || r.Sleeping, Game: r.Game, Source: r.Source} // the daemon marks it "app:"
		if err := a.cfg.Client.ReportPresence(ctx, rep); err != nil && ctx.Err() == nil {
			a.log.Debug("pushing presence", "err", err)
		}
	})
	if errors.Is(err, presence.ErrUnsupported) {
		a.log.Warn("the app cannot see this session's input", "why", err)
		a.mu.Lock()
		a.sensorNote = "Spare cannot see your keyboard and mouse in this session (" + err.Error() + "), so it cannot tell when you are away."
		a.mu.Unlock()
		a.publish()
		return nil
	}
	return err
}
