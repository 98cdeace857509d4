package node

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/settings"
)

// initialSettings decides the owner's settings at start (settings.Resolve
// with DATA/settings.json) and returns the governor's.
func (d *Daemon) initialSettings() governor.Settings {
	saved, found, err := settings.Load(d.cfg.DataDir)
	if err != nil {
		d.log.Error("ignoring the saved settings; using the command line's", "err", err)
	}
	var set governor.Settings
	d.owner, d.pinned, set = settings.Resolve(d.cfg.Settings, saved, found, d.cfg.Pinned)
	return set
}

// ownerSettings are the settings in force, as GET /v1/settings shows them.
func (d *Daemon) ownerSettings() localapi.Settings {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.owner
	s.Workloads = slices.Clone(s.Workloads)
	s.CommandLine = slices.Clone(d.pinned)
	s.Networks, s.NetworkInUse = slices.Clone(d.cfg.Networks), d.cfg.NetworkInUse
	return s
}

// changingSettings names PUT /v1/settings in a refusal.
const changingSettings = "Changing the settings"

// serveSettings answers GET /v1/settings; to a caller who is not an
// owner it says why they are read-only (Settings.ReadOnly).
func (d *Daemon) serveSettings(w http.ResponseWriter, r *http.Request) {
	s := d.ownerSettings()
	s.CostFloor = d.describeCostFloor()
	if err := d.needOwner(r.Context(), changingSettings); err != nil {
		s.ReadOnly = err.Error()
	}
	writeJSON(w, s)
}

func (d *Daemon) serveUpdateSettings(w http.ResponseWriter, r *http.Request) {
	var req localapi.Settings
	if !readJSON(w, r, &req) {
		return
	}
	s, err := settings.Validate(req)
	if err != nil {
		var fe *settings.FieldError
		field := ""
		if errors.As(err, &fe) {
			field = fe.Field
		}
		writeFieldError(w, http.StatusBadRequest, localapi.CodeInvalid, field, strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	if s.Network != "" && !slices.Contains(d.cfg.Networks, s.Network) {
		writeFieldError(w, http.StatusBadRequest, localapi.CodeInvalid, settings.FieldNetwork,
			fmt.Sprintf("network: %q is not a preset this daemon knows (%s); `spare chain deploy` writes one to DATA/networks.json",
				s.Network, strings.Join(d.cfg.Networks, ", ")))
		return
	}
	d.settingsOp.Lock()
	defer d.settingsOp.Unlock()
	if err := settings.Save(d.cfg.DataDir, s); err != nil {
		d.log.Error("saving settings", "err", err)
		writeError(w, http.StatusInternalServerError, localapi.CodeInternal, err.Error())
		return
	}
	if err := d.gov.SetSettings(settings.Governor(d.cfg.Settings, s, nil)); err != nil {
		writeError(w, http.StatusServiceUnavailable, localapi.CodeStopping, err.Error())
		return
	}
	if d.cfg.Market != nil {
		d.cfg.Market.SetTerms(settings.Terms(s, nil))
		if m, ok := d.cfg.Market.(IOUMarket); ok {
			m.SetIOUPolicy(settings.IOUs(s))
		}
	}
	d.applyRelay(s)
	d.mu.Lock()
	d.owner, d.pinned = s, nil
	d.mu.Unlock()
	d.applyCostFloor()
	d.log.Info("settings changed", "idle_minutes", s.IdleMinutes, "run_on_battery", s.RunOnBattery, "max_temp_c", s.MaxTempC,
		"schedule", s.Schedule, "price_floor", s.PriceFloor, "workloads", s.Workloads, "no_loss", s.NoLoss, "loss_margin", s.LossMargin,
		"ious_from_strangers", s.IOUsFromStrangers, "iou_peers", len(s.IOUPeers), "relay", s.Relay)
	d.emit(localapi.EventSettings)
	got := d.ownerSettings()
	got.CostFloor = d.describeCostFloor()
	writeJSON(w, got)
}
