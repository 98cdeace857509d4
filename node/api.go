package node

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

// maxRequestBody caps a LocalAPI request body.
const maxRequestBody = 64 << 10

// handler serves the LocalAPI (see package localapi for the contract).
// Whoever the socket lets in reads and may pause and resume; the routes
// wrapped in admin need an owner (access.go).
func (d *Daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, d.Status()) })
	mux.HandleFunc("GET /v1/events", d.serveEvents)
	mux.HandleFunc("POST /v1/pause", d.servePause)
	mux.HandleFunc("POST /v1/resume", func(w http.ResponseWriter, r *http.Request) {
		if err := d.gov.Resume(); err != nil {
			writeError(w, http.StatusServiceUnavailable, localapi.CodeStopping, err.Error())
			return
		}
		writeJSON(w, d.waitChange(r, localapi.StatePaused))
	})
	mux.HandleFunc("POST /v1/presence", d.servePresence)
	mux.HandleFunc("GET /v1/wallet", d.serveWallet)
	mux.HandleFunc("POST /v1/wallet/withdraw", d.admin("Withdrawing", d.serveWithdraw))
	mux.HandleFunc("POST /v1/wallet/export", d.admin("Exporting the wallet key", d.serveExport))
	mux.HandleFunc("GET /v1/settings", d.serveSettings)
	mux.HandleFunc("PUT /v1/settings", d.admin(changingSettings, d.serveUpdateSettings))
	mux.HandleFunc("GET /v1/telemetry", d.serveTelemetry)
	mux.HandleFunc("GET /v1/job", d.serveJob)
	mux.HandleFunc("POST /v1/jobs", d.admin("Submitting jobs through the daemon", d.serveSubmit))
	mux.HandleFunc("GET /v1/household", d.serveHousehold)
	mux.HandleFunc("POST /v1/household/command", d.serveHouseholdCommand)
	mux.HandleFunc("POST /v1/household/code", d.admin("Pairing another machine", d.servePairCode))
	mux.HandleFunc("POST /v1/household/pair", d.admin("Pairing another machine", d.servePair))
	mux.HandleFunc("POST /v1/stop", d.admin("Stopping the daemon", d.serveStop))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics(), promhttp.HandlerOpts{}))
	return mux
}

// serveStop answers POST /v1/stop: the daemon stops as it does on
// SIGTERM (jobs drained, ad withdrawn, each submitted job paid for its
// receipted work) after the answer, the status as it stood. It is how the
// Windows app stops the daemon it started in Spare's WSL distribution,
// where it has no signal to send.
func (d *Daemon) serveStop(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		writeError(w, http.StatusBadRequest, localapi.CodeBadRequest, "POST /v1/stop takes no body: send it empty")
		return
	}
	stop := d.stop.Load()
	if stop == nil {
		writeError(w, http.StatusServiceUnavailable, localapi.CodeStopping, "the daemon is not serving")
		return
	}
	d.log.Info("asked to stop through the LocalAPI")
	writeJSON(w, d.Status())
	if f, ok := w.(http.Flusher); ok {
		f.Flush() // answered before the requests' context ends
	}
	(*stop)()
}

func (d *Daemon) servePause(w http.ResponseWriter, r *http.Request) {
	var req localapi.PauseRequest
	if !readJSON(w, r, &req) {
		return
	}
	now := time.Now()
	p := governor.PauseUntilResumed()
	switch {
	case req.For != "" && req.Until != "":
		writeError(w, http.StatusBadRequest, localapi.CodeBadRequest, "give either for or until, not both")
		return
	case req.For != "":
		dur, err := time.ParseDuration(req.For)
		if err != nil || dur <= 0 || dur > 30*24*time.Hour {
			writeError(w, http.StatusBadRequest, localapi.CodeBadRequest, "for: want a duration between 1s and 720h, such as 1h or 30m")
			return
		}
		p = governor.PauseFor(now, dur)
	case req.Until == "tomorrow":
		p = governor.PauseUntilTomorrow(now, d.cfg.Settings.Location)
	case req.Until != "":
		writeError(w, http.StatusBadRequest, localapi.CodeBadRequest, `until: the only value is "tomorrow"`)
		return
	}
	if err := d.gov.Pause(p); err != nil {
		writeError(w, http.StatusServiceUnavailable, localapi.CodeStopping, err.Error())
		return
	}
	writeJSON(w, d.waitChange(r, "", localapi.StatePaused))
}

// waitChange returns the status once the governor has applied a command:
// the state leaves `from` (when set) or reaches `to` (when set), or after
// a second.
func (d *Daemon) waitChange(r *http.Request, from localapi.State, to ...localapi.State) localapi.Status {
	return d.waitState(r.Context(), from, to...)
}

// waitState is waitChange for ctx.
func (d *Daemon) waitState(ctx context.Context, from localapi.State, to ...localapi.State) localapi.Status {
	ch := d.subscribe()
	defer d.unsubscribe(ch)
	done := func(s localapi.Status) bool {
		if len(to) > 0 {
			return s.State == to[0]
		}
		return s.State != from
	}
	if s := d.Status(); done(s) {
		return s
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case s, ok := <-ch:
			if !ok || done(s) {
				return d.Status()
			}
		case <-t.C:
			return d.Status()
		case <-ctx.Done():
			return d.Status()
		}
	}
}

func (d *Daemon) servePresence(w http.ResponseWriter, r *http.Request) {
	if err := d.presenceFrom(r.Context()); err != nil {
		writeError(w, http.StatusForbidden, localapi.CodeNotSession, err.Error())
		return
	}
	var p localapi.PresenceReport
	if !readJSON(w, r, &p) {
		return
	}
	if p.IdleMS < 0 || p.IdleMS > int64(365*24*time.Hour/time.Millisecond) || len(p.Game) > 256 || len(p.Source) > 64 {
		writeError(w, http.StatusBadRequest, localapi.CodeBadRequest, "idle_ms must be 0..1 year; game at most 256 and source at most 64 bytes")
		return
	}
	src := "app"
	if p.Source != "" {
		src = "app:" + p.Source
	}
	err := d.gov.SetPresence(presence.Report{At: time.Now(), Idle: time.Duration(p.IdleMS) * time.Millisecond,
		IdleKnown: p.IdleKnown, Locked: p.Locked, Game: p.Game, Source: src})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, localapi.CodeStopping, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sentenceEvery is how often the event stream looks whether the status
// sentence reads differently ("starting in 4 min 57 s" counts down).
const sentenceEvery = time.Second

// serveEvents streams the status, one JSON object per line: the current
// one first, then each change, and the status again whenever its
// sentence reads differently (at most once per sentenceEvery), until the
// client goes or the daemon stops.
func (d *Daemon) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, "streaming unsupported")
		return
	}
	ch := d.subscribe()
	defer d.unsubscribe(ch)
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	last := d.Status()
	if enc.Encode(last) != nil {
		return
	}
	fl.Flush()
	tick := time.NewTicker(sentenceEvery)
	defer tick.Stop()
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				return
			}
			last = d.Status() // the latest, its sentence true now
			last.Event = s.Event
		case now := <-tick.C:
			own := d.ownStatus(now)
			if own.Sentence == last.Sentence || own.State != last.State || own.Job != last.Job {
				continue // unchanged, or a change the channel brings
			}
			last.Sentence, last.Brief, last.Updated, last.Event = own.Sentence, own.Brief, own.Updated, localapi.EventState
		case <-r.Context().Done():
			return
		}
		if enc.Encode(last) != nil {
			return
		}
		fl.Flush()
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, localapi.CodeBadRequest, "request body: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code localapi.Code, msg string) {
	writeFieldError(w, status, code, "", msg)
}

// writeFieldError answers an error that names the request field at fault.
func writeFieldError(w http.ResponseWriter, status int, code localapi.Code, field, msg string) {
	writeAPIError(w, status, localapi.Error{Message: msg, Code: code, Field: field})
}

// writeAPIError answers an error in full (with RetryAt, say).
func writeAPIError(w http.ResponseWriter, status int, e localapi.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}
