package app

import (
	"context"
	"errors"
	"time"

	"github.com/sparegpu/spare/localapi"
)

// fetch is a set of details to read from the daemon.
type fetch uint8

const (
	fetchWallet fetch = 1 << iota
	fetchTelemetry
	fetchJob
	fetchSettings
	fetchHousehold
	fetchAll = fetchWallet | fetchTelemetry | fetchJob | fetchSettings | fetchHousehold
)

// whatChanged says which details to read again after a status arrives:
// everything on (re)connecting, then what the event announces, and the
// job whenever the state or the job changes.
func whatChanged(prev, next localapi.Status, first bool) fetch {
	if first {
		return fetchAll
	}
	var f fetch
	switch next.Event {
	case localapi.EventWallet:
		f |= fetchWallet | fetchJob // the job's earnings grow with the wallet
	case localapi.EventSettings:
		f |= fetchSettings
	case localapi.EventJob:
		f |= fetchJob
	}
	if prev.State != next.State || prev.Job != next.Job {
		f |= fetchJob
	}
	return f
}

// refetch asks followDetails to read f again.
func (a *App) refetch(f fetch) {
	if f == 0 {
		return
	}
	a.mu.Lock()
	a.want |= f
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// followDetails reads the details the event stream says changed, and all
// but the settings every DetailsEvery.
func (a *App) followDetails(ctx context.Context) error {
	every := a.cfg.DetailsEvery
	if every <= 0 {
		every = detailsEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.kick:
		case <-t.C:
			a.mu.Lock()
			a.want |= fetchWallet | fetchTelemetry | fetchJob | fetchHousehold
			a.mu.Unlock()
		}
		a.mu.Lock()
		f := a.want
		a.want = 0
		connected := a.connErr == nil
		a.mu.Unlock()
		if !connected {
			continue // the reconnect reads everything
		}
		a.readDetails(ctx, f)
	}
}

func (a *App) readDetails(ctx context.Context, f fetch) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := a.cfg.Client
	var d Details
	a.mu.Lock()
	d = a.details
	a.mu.Unlock()
	if f&fetchWallet != 0 {
		w, err := c.Wallet(ctx)
		var le *localapi.Error
		switch {
		case err == nil:
			d.Wallet, d.WalletErr = &w, nil
		case errors.As(err, &le) && le.Code == localapi.CodeNoWallet:
			d.Wallet, d.WalletErr = nil, err
		default:
			d.WalletErr = err
		}
	}
	if f&fetchTelemetry != 0 {
		if t, err := c.Telemetry(ctx); err == nil {
			d.Telemetry = t
		} else if ctx.Err() == nil {
			a.log.Debug("reading telemetry", "err", err)
		}
	}
	if f&fetchJob != 0 {
		if j, err := c.Job(ctx); err == nil {
			d.Job = j
		} else if ctx.Err() == nil {
			a.log.Debug("reading the current job", "err", err)
		}
	}
	if f&fetchHousehold != 0 {
		if h, err := c.Household(ctx); err == nil {
			d.Household, d.HouseholdErr = &h, nil
		} else if ctx.Err() == nil {
			d.HouseholdErr = err
		}
	}
	if f&fetchSettings != 0 {
		if s, err := c.Settings(ctx); err == nil {
			a.draw(func() { a.ui.form.loadDaemon(s) })
		} else if ctx.Err() == nil {
			a.log.Warn("reading settings", "err", err)
		}
	}
	a.mu.Lock()
	a.details = d
	a.mu.Unlock()
	a.publish()
}
