package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// SettingsFile holds the owner's settings in the data directory.
const SettingsFile = "settings.json"

// Owner settings' limits.
const (
	MinIdleMinutes = 1
	MaxIdleMinutes = 240
	MinMaxTempC    = 50
	MaxMaxTempC    = 95
	// maxPriceFloor bounds the price floor per hour (currency units).
	maxPriceFloor = 1000 * 1_000_000
	// maxSettingsFile bounds DATA/settings.json.
	maxSettingsFile = 64 << 10
)

// Setting field names, as in JSON and as pinned by the command line.
const (
	FieldIdleMinutes  = "idle_minutes"
	FieldRunOnBattery = "run_on_battery"
	FieldMaxTempC     = "max_temp_c"
	FieldPriceFloor   = "price_floor"
)

// termsSetter is what the daemon needs from the market to apply the
// owner's price floor and allowed workloads (Provider has it).
type termsSetter interface {
	// SetTerms replaces the price (nil: the configured one) and the
	// allowed kinds (empty: any) of quotes given from now on.
	SetTerms(price *market.Price, kinds []market.Kind)
}

var scheduleRE = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)

// fieldError is a settings error naming its field.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// validateSettings checks s and returns it cleaned (sorted, deduplicated
// workloads, trimmed text), or every problem, each naming its field.
func validateSettings(s localapi.Settings) (localapi.Settings, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &fieldError{field, fmt.Sprintf(format, args...)})
	}
	if s.IdleMinutes < MinIdleMinutes || s.IdleMinutes > MaxIdleMinutes {
		bad(FieldIdleMinutes, "%d is outside %d–%d minutes", s.IdleMinutes, MinIdleMinutes, MaxIdleMinutes)
	}
	if s.MaxTempC < MinMaxTempC || s.MaxTempC > MaxMaxTempC {
		bad(FieldMaxTempC, "%d °C is outside %d–%d °C", s.MaxTempC, MinMaxTempC, MaxMaxTempC)
	}
	s.Schedule = strings.TrimSpace(s.Schedule)
	if s.Schedule == "" {
		s.Schedule = "always"
	}
	if s.Schedule != "always" && !scheduleRE.MatchString(s.Schedule) {
		bad("schedule", `%s is neither "always" nor a daily window like 22:00-07:00`, quoteClip(s.Schedule))
	}
	s.PriceFloor = strings.TrimSpace(s.PriceFloor)
	if s.PriceFloor != "" {
		a, err := wallet.ParseAmount(s.PriceFloor)
		if err != nil || a <= 0 || a > maxPriceFloor {
			bad(FieldPriceFloor, "%s is not an amount per hour between 0.000001 and 1000 like 0.36 (empty: the daemon's price)", quoteClip(s.PriceFloor))
		}
	}
	var kinds []string
	for _, w := range s.Workloads {
		if w != string(market.KindRender) && w != string(market.KindInference) {
			bad("workloads", "%s is not a workload kind: want render or inference", quoteClip(w))
			continue
		}
		if !slices.Contains(kinds, w) {
			kinds = append(kinds, w)
		}
	}
	slices.Sort(kinds)
	if len(kinds) == 0 && len(errs) == 0 {
		bad("workloads", "allow at least one of render and inference (to take no work, pause instead)")
	}
	s.Workloads, s.CommandLine = kinds, nil
	return s, errors.Join(errs...)
}

// ownerFrom describes governor settings (from the command line) as owner
// settings.
func ownerFrom(set Settings) localapi.Settings {
	set = set.withDefaults()
	s := localapi.Settings{IdleMinutes: int((set.IdleBefore + time.Minute - 1) / time.Minute), RunOnBattery: set.WorkOnBattery,
		MaxTempC: set.MaxTempC, Schedule: "always", Workloads: []string{string(market.KindInference), string(market.KindRender)}}
	s.IdleMinutes = min(max(s.IdleMinutes, MinIdleMinutes), MaxIdleMinutes)
	if len(set.Schedule) == 1 && len(set.Schedule[0].Days) == 0 {
		w := set.Schedule[0]
		s.Schedule = fmt.Sprintf("%02d:%02d-%02d:%02d", int(w.Start.Hours()), int(w.Start.Minutes())%60, int(w.End.Hours()), int(w.End.Minutes())%60)
	}
	return s
}

// applyOwner puts the owner's settings over the command line's governor
// settings, except the fields pinned by the command line.
func applyOwner(base Settings, s localapi.Settings, pinned []string) Settings {
	set := base
	if !slices.Contains(pinned, FieldIdleMinutes) {
		set.IdleBefore = time.Duration(s.IdleMinutes) * time.Minute
	}
	if !slices.Contains(pinned, FieldRunOnBattery) {
		set.WorkOnBattery = s.RunOnBattery
	}
	if !slices.Contains(pinned, FieldMaxTempC) {
		set.MaxTempC = s.MaxTempC
	}
	set.Schedule = nil
	if s.Schedule != "always" {
		if w, err := ParseWindow(s.Schedule); err == nil {
			set.Schedule = []Window{w}
		}
	}
	return set
}

// termsOf turns the owner's price floor (per hour) and workloads into
// quote terms: the price per second is the floor divided by 3600, rounded
// up, so the owner never gets less than the floor.
func termsOf(s localapi.Settings, pinned []string) (*market.Price, []market.Kind) {
	var price *market.Price
	if s.PriceFloor != "" && !slices.Contains(pinned, FieldPriceFloor) {
		if a, err := wallet.ParseAmount(s.PriceFloor); err == nil && a > 0 {
			per := (uint64(a) + 3599) / 3600
			price = &market.Price{PerGPUSecond: per, PerCPUSecond: per}
		}
	}
	var kinds []market.Kind
	if len(s.Workloads) == 1 { // both: any kind, including jobs that name none
		kinds = []market.Kind{market.Kind(s.Workloads[0])}
	}
	return price, kinds
}

// loadOwner reads DATA/settings.json; found is false when there is none.
func loadOwner(dataDir string) (s localapi.Settings, found bool, err error) {
	p := filepath.Join(dataDir, SettingsFile)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("reading settings: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, maxSettingsFile))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, false, fmt.Errorf("reading settings %s: %w (fix or remove the file)", p, err)
	}
	if s, err = validateSettings(s); err != nil {
		return s, false, fmt.Errorf("settings %s: %w (fix or remove the file)", p, err)
	}
	return s, true, nil
}

// saveOwner writes DATA/settings.json durably (0600, synced, renamed).
func saveOwner(dataDir string, s localapi.Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(dataDir, SettingsFile)
	tmp, err := os.CreateTemp(dataDir, ".settings-*")
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	if dir, err := os.Open(dataDir); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return nil
}

// initialSettings decides the owner's settings at start and returns the
// governor's: the saved ones, with the fields the command line pinned
// taken from it; with none saved, the command line's exactly (a playground
// may ask for seconds of idle time, which no saved setting can say).
func (d *Daemon) initialSettings() Settings {
	base := ownerFrom(d.cfg.Settings)
	s, found, err := loadOwner(d.cfg.DataDir)
	if err != nil {
		d.log.Error("ignoring the saved settings; using the command line's", "err", err)
	}
	if !found {
		s = base
	}
	for _, f := range d.cfg.Pinned {
		switch f {
		case FieldIdleMinutes:
			s.IdleMinutes = base.IdleMinutes
		case FieldRunOnBattery:
			s.RunOnBattery = base.RunOnBattery
		case FieldMaxTempC:
			s.MaxTempC = base.MaxTempC
		case FieldPriceFloor:
			s.PriceFloor = ""
		default:
			continue
		}
		d.pinned = append(d.pinned, f)
	}
	d.owner = s
	if !found {
		return d.cfg.Settings
	}
	return applyOwner(d.cfg.Settings, s, d.pinned)
}

// ownerSettings are the settings in force, as GET /v1/settings shows them.
func (d *Daemon) ownerSettings() localapi.Settings {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.owner
	s.Workloads = slices.Clone(s.Workloads)
	s.CommandLine = slices.Clone(d.pinned)
	return s
}

func (d *Daemon) serveUpdateSettings(w http.ResponseWriter, r *http.Request) {
	var req localapi.Settings
	if !readJSON(w, r, &req) {
		return
	}
	s, err := validateSettings(req)
	if err != nil {
		var fe *fieldError
		field := ""
		if errors.As(err, &fe) {
			field = fe.field
		}
		writeFieldError(w, http.StatusBadRequest, localapi.CodeInvalid, field, strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	d.settingsOp.Lock()
	defer d.settingsOp.Unlock()
	if err := saveOwner(d.cfg.DataDir, s); err != nil {
		d.log.Error("saving settings", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	if err := d.gov.SetSettings(applyOwner(d.cfg.Settings, s, nil)); err != nil {
		writeError(w, http.StatusServiceUnavailable, "stopping", err.Error())
		return
	}
	if d.cfg.Terms != nil {
		d.cfg.Terms.SetTerms(termsOf(s, nil))
	}
	d.mu.Lock()
	d.owner, d.pinned = s, nil
	d.mu.Unlock()
	d.log.Info("settings changed", "idle_minutes", s.IdleMinutes, "run_on_battery", s.RunOnBattery, "max_temp_c", s.MaxTempC,
		"schedule", s.Schedule, "price_floor", s.PriceFloor, "workloads", s.Workloads)
	d.emit(localapi.EventSettings)
	writeJSON(w, d.ownerSettings())
}
