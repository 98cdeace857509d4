package node

import (
	"context"
	"net/http"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
)

// Household is what the daemon needs of the household's machines
// (*household.Service).
type Household interface {
	View(ctx context.Context) localapi.Household
	Command(ctx context.Context, c localapi.HouseholdCommand) (localapi.Machine, error)
	NewCode() (localapi.PairCode, error)
	Pair(ctx context.Context, code string) (localapi.Machine, error)
}

// PauseFor pauses sharing for d (0: until resumed), a household
// machine's command, and returns once the governor has (at most a
// second).
func (d *Daemon) PauseFor(dur time.Duration) error {
	p := governor.PauseUntilResumed()
	if dur > 0 {
		p = governor.PauseFor(time.Now(), dur)
	}
	if err := d.gov.Pause(p); err != nil {
		return err
	}
	d.waitState(context.Background(), "", localapi.StatePaused)
	return nil
}

// Resume ends a pause, a household machine's command, and returns once
// the governor has (at most a second).
func (d *Daemon) Resume() error {
	if err := d.gov.Resume(); err != nil {
		return err
	}
	d.waitState(context.Background(), localapi.StatePaused)
	return nil
}

func (d *Daemon) haveHousehold(w http.ResponseWriter) bool {
	if d.cfg.Household == nil {
		writeError(w, http.StatusServiceUnavailable, localapi.CodeBadRequest, "this daemon runs without the household (no p2p host)")
		return false
	}
	return true
}

func (d *Daemon) serveHousehold(w http.ResponseWriter, r *http.Request) {
	if !d.haveHousehold(w) {
		return
	}
	writeJSON(w, d.cfg.Household.View(r.Context()))
}

// serveHouseholdCommand pauses or resumes another machine: like pausing
// this one, anyone the socket lets in may.
func (d *Daemon) serveHouseholdCommand(w http.ResponseWriter, r *http.Request) {
	if !d.haveHousehold(w) {
		return
	}
	var c localapi.HouseholdCommand
	if !readJSON(w, r, &c) {
		return
	}
	m, err := d.cfg.Household.Command(r.Context(), c)
	if err != nil {
		writeError(w, http.StatusBadRequest, localapi.CodeBadRequest, err.Error())
		return
	}
	writeJSON(w, m)
}

func (d *Daemon) servePairCode(w http.ResponseWriter, _ *http.Request) {
	if !d.haveHousehold(w) {
		return
	}
	c, err := d.cfg.Household.NewCode()
	if err != nil {
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, err.Error())
		return
	}
	writeJSON(w, c)
}

func (d *Daemon) servePair(w http.ResponseWriter, r *http.Request) {
	if !d.haveHousehold(w) {
		return
	}
	var p localapi.PairRequest
	if !readJSON(w, r, &p) {
		return
	}
	m, err := d.cfg.Household.Pair(r.Context(), p.Code)
	if err != nil {
		writeError(w, http.StatusBadRequest, localapi.CodeBadRequest, err.Error())
		return
	}
	writeJSON(w, m)
}
