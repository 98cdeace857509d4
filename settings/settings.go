// Package settings holds the owner's settings: the rules a person sets
// in the app's Settings page (idle minutes, battery, temperature,
// schedule, price floor, allowed workloads). It validates them, each
// error naming its field; keeps them in DATA/settings.json; and says
// what they mean for the governor (Governor) and for the market's quotes
// (Terms). The LocalAPI carries them as localapi.Settings.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/atomicfile"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/wallet"
)

// File holds the owner's settings in the data directory.
const File = "settings.json"

// Owner settings' limits.
const (
	MinIdleMinutes = 1
	MaxIdleMinutes = 240
	MinMaxTempC    = 50
	MaxMaxTempC    = 95
	// maxPriceFloor bounds the price floor per hour (currency units).
	maxPriceFloor = 1000 * 1_000_000
	// maxElectricityPrice bounds the price of a kWh (owner's currency).
	maxElectricityPrice = 100 * 1_000_000
	// maxTokenRate bounds the token's worth in the owner's currency.
	maxTokenRate = 1_000_000 * 1_000_000
	// MaxLossMargin bounds the margin over electricity, in percent.
	MaxLossMargin = 1000
	// maxFile bounds DATA/settings.json.
	maxFile = 64 << 10
)

// Setting field names, as in JSON and as pinned by the command line.
const (
	FieldIdleMinutes  = "idle_minutes"
	FieldRunOnBattery = "run_on_battery"
	FieldMaxTempC     = "max_temp_c"
	FieldPriceFloor   = "price_floor"
	FieldSchedule     = "schedule"
	FieldWorkloads    = "workloads"
	FieldElectricity  = "electricity_price"
	FieldCurrency     = "currency"
	FieldTokenRate    = "token_rate"
	FieldNoLoss       = "no_loss"
	FieldLossMargin   = "loss_margin"
	FieldIOUStrangers = "ious_from_strangers"
	FieldIOUPeers     = "iou_peers"
	FieldNetwork      = "network"
	FieldRelay        = "relay"
)

var networkRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// MaxIOUPeers bounds the peers named for IOUs.
const MaxIOUPeers = 64

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

var scheduleRE = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)

// FieldError is a settings error naming its field.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks s and returns it cleaned (sorted, deduplicated
// workloads, trimmed text), or every problem, each naming its field.
func Validate(s localapi.Settings) (localapi.Settings, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{field, fmt.Sprintf(format, args...)})
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
		bad(FieldSchedule, `%s is neither "always" nor a daily window like 22:00-07:00`, clipQuote(s.Schedule))
	}
	s.PriceFloor = strings.TrimSpace(s.PriceFloor)
	if s.PriceFloor != "" {
		a, err := wallet.ParseAmount(s.PriceFloor)
		if err != nil || a <= 0 || a > maxPriceFloor {
			bad(FieldPriceFloor, "%s is not an amount per hour between 0.000001 and 1000 like 0.36 (empty: the daemon's price)", clipQuote(s.PriceFloor))
		}
	}
	s.ElectricityPrice, s.Currency, s.TokenRate = strings.TrimSpace(s.ElectricityPrice), strings.TrimSpace(s.Currency), strings.TrimSpace(s.TokenRate)
	if s.ElectricityPrice != "" {
		if a, err := wallet.ParseAmount(s.ElectricityPrice); err != nil || a <= 0 || a > maxElectricityPrice {
			bad(FieldElectricity, "%s is not a price per kWh between 0.000001 and 100 like 0.32 (empty: not set)", clipQuote(s.ElectricityPrice))
		}
	}
	if s.Currency != "" && (!currencyRE.MatchString(s.Currency) || !localapi.KnownCurrency(s.Currency)) {
		bad(FieldCurrency, "%s is not an ISO 4217 currency code of three capital letters like EUR (empty: the token's)", clipQuote(s.Currency))
	}
	if s.TokenRate != "" {
		if a, err := wallet.ParseAmount(s.TokenRate); err != nil || a <= 0 || a > maxTokenRate {
			bad(FieldTokenRate, "%s is not what one token is worth, between 0.000001 and 1000000 like 0.92 (empty: 1)", clipQuote(s.TokenRate))
		}
	}
	if s.LossMargin < 0 || s.LossMargin > MaxLossMargin {
		bad(FieldLossMargin, "%d %% is outside 0–%d %%", s.LossMargin, MaxLossMargin)
	}
	if s.NoLoss && s.ElectricityPrice == "" {
		bad(FieldNoLoss, "never working at a loss needs the price of a kWh: set electricity_price too")
	}
	s.Network = strings.TrimSpace(s.Network)
	if s.Network != "" && !networkRE.MatchString(s.Network) {
		bad(FieldNetwork, "%s is not a network preset's name (lower-case letters, digits and '-'; empty: the local ledger)", clipQuote(s.Network))
	}
	var friends []string
	for _, id := range s.IOUPeers {
		id = strings.TrimSpace(id)
		if _, err := peer.Decode(id); err != nil {
			bad(FieldIOUPeers, "%s is not a peer ID like 12D3KooW… (spare status prints a node's)", clipQuote(id))
			continue
		}
		if !slices.Contains(friends, id) {
			friends = append(friends, id)
		}
	}
	if len(friends) > MaxIOUPeers {
		bad(FieldIOUPeers, "%d peers named, at most %d", len(friends), MaxIOUPeers)
	}
	slices.Sort(friends)
	s.IOUPeers = friends
	var kinds []string
	for _, w := range s.Workloads {
		if w != string(market.KindRender) && w != string(market.KindInference) {
			bad(FieldWorkloads, "%s is not a workload kind: want render or inference", clipQuote(w))
			continue
		}
		if !slices.Contains(kinds, w) {
			kinds = append(kinds, w)
		}
	}
	slices.Sort(kinds)
	if len(kinds) == 0 && len(errs) == 0 {
		bad(FieldWorkloads, "allow at least one of render and inference (to take no work, pause instead)")
	}
	s.Workloads, s.CommandLine, s.ReadOnly, s.CostFloor, s.Networks, s.NetworkInUse = kinds, nil, "", nil, nil, ""
	return s, errors.Join(errs...)
}

// FromGovernor describes governor settings (the command line's) as
// owner settings.
func FromGovernor(set governor.Settings) localapi.Settings {
	set = set.WithDefaults()
	s := localapi.Settings{IdleMinutes: int((set.IdleBefore + time.Minute - 1) / time.Minute), RunOnBattery: set.WorkOnBattery,
		MaxTempC: set.MaxTempC, Schedule: "always", Workloads: []string{string(market.KindInference), string(market.KindRender)}}
	s.IdleMinutes = min(max(s.IdleMinutes, MinIdleMinutes), MaxIdleMinutes)
	if len(set.Schedule) == 1 && len(set.Schedule[0].Days) == 0 {
		w := set.Schedule[0]
		s.Schedule = fmt.Sprintf("%02d:%02d-%02d:%02d", int(w.Start.Hours()), int(w.Start.Minutes())%60, int(w.End.Hours()), int(w.End.Minutes())%60)
	}
	return s
}

// Governor puts the owner's settings over the command line's governor
// settings, except the fields pinned by the command line.
func Governor(base governor.Settings, s localapi.Settings, pinned []string) governor.Settings {
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
		if w, err := governor.ParseWindow(s.Schedule); err == nil {
			set.Schedule = []governor.Window{w}
		}
	}
	return set
}

// Terms turns the owner's price floor (per hour) and workloads into
// quote terms (market.PricePerHour: the owner never gets less than the
// floor). A floor pinned by the command line gives nil: the daemon's
// price holds.
func Terms(s localapi.Settings, pinned []string) (*market.Price, []market.Kind) {
	var price *market.Price
	if s.PriceFloor != "" && !slices.Contains(pinned, FieldPriceFloor) {
		if a, err := wallet.ParseAmount(s.PriceFloor); err == nil && a > 0 {
			p := market.PricePerHour(uint64(a))
			price = &p
		}
	}
	var kinds []market.Kind
	if len(s.Workloads) == 1 { // both: any kind, including jobs that name none
		kinds = []market.Kind{market.Kind(s.Workloads[0])}
	}
	return price, kinds
}

// IOUs says whose IOUs the owner takes on the public network: anyone's
// (fromStrangers), or only the named peers' (peer IDs Validate checked).
func IOUs(s localapi.Settings) (fromStrangers bool, friends []peer.ID) {
	for _, id := range s.IOUPeers {
		if p, err := peer.Decode(id); err == nil {
			friends = append(friends, p)
		}
	}
	return s.IOUsFromStrangers, friends
}

// Load reads DATA/settings.json; found is false when there is none.
func Load(dataDir string) (s localapi.Settings, found bool, err error) {
	p := filepath.Join(dataDir, File)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("reading settings: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, maxFile))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, false, fmt.Errorf("reading settings %s: %w (fix or remove the file)", p, err)
	}
	if s, err = Validate(s); err != nil {
		return s, false, fmt.Errorf("settings %s: %w (fix or remove the file)", p, err)
	}
	return s, true, nil
}

// Save writes DATA/settings.json durably (0600, synced, renamed).
func Save(dataDir string, s localapi.Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dataDir, File), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	return nil
}

// clipQuote quotes what a person typed, clipped to 64 bytes.
func clipQuote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}

// Resolve decides the owner's settings at start from the command line's
// governor settings (cmdline), the saved ones (when found) and the fields
// the command line pinned (Field constants; others are ignored). It
// returns the owner's settings in force, the pinned fields it honoured,
// and the governor's settings: the saved ones with the pinned fields
// taken from the command line; with none saved, the command line's
// exactly (a playground may ask for seconds of idle time, which no saved
// setting can say).
func Resolve(cmdline governor.Settings, saved localapi.Settings, found bool, pinned []string) (localapi.Settings, []string, governor.Settings) {
	base := FromGovernor(cmdline)
	s := saved
	if !found {
		s = base
	}
	var honoured []string
	for _, f := range pinned {
		switch f {
		case FieldIdleMinutes:
			s.IdleMinutes = base.IdleMinutes
		case FieldRunOnBattery:
			s.RunOnBattery = base.RunOnBattery
		case FieldMaxTempC:
			s.MaxTempC = base.MaxTempC
		case FieldPriceFloor:
			s.PriceFloor = ""
		case FieldIOUStrangers: // the command line only opts in
			s.IOUsFromStrangers = true
		case FieldRelay: // --relay only opts in
			s.Relay = true
		default:
			continue
		}
		honoured = append(honoured, f)
	}
	if !found {
		return s, honoured, cmdline
	}
	return s, honoured, Governor(cmdline, s, honoured)
}

// ElectricityCostLocal is the cost of mwh milliwatt-hours at the owner's
// price, in millionths of the owner's currency, rounded up; false when no
// price is set. Integer arithmetic throughout: mWh × price / 10⁶.
func ElectricityCostLocal(s localapi.Settings, mwh int64) (localapi.Money, bool) {
	if s.ElectricityPrice == "" || mwh < 0 {
		return 0, false
	}
	price, err := wallet.ParseAmount(s.ElectricityPrice)
	if err != nil || price <= 0 {
		return 0, false
	}
	n := new(big.Int).Mul(big.NewInt(mwh), big.NewInt(int64(price)))
	n.Add(n, big.NewInt(999_999))
	n.Quo(n, big.NewInt(1_000_000))
	if !n.IsInt64() {
		return 0, false
	}
	return localapi.Money(n.Int64()), true
}

// ElectricityCost is the cost of mwh milliwatt-hours at the owner's
// price, in the token's smallest units, rounded up; false when no price
// is set (or the settings do not read). Integer arithmetic throughout.
func ElectricityCost(s localapi.Settings, mwh int64) (localapi.Amount, bool) {
	if s.ElectricityPrice == "" || mwh < 0 {
		return 0, false
	}
	price, err := wallet.ParseAmount(s.ElectricityPrice)
	if err != nil || price <= 0 {
		return 0, false
	}
	rate := wallet.Amount(1_000_000)
	if s.TokenRate != "" {
		if rate, err = wallet.ParseAmount(s.TokenRate); err != nil || rate <= 0 {
			return 0, false
		}
	}
	// cost in token micro-units = mWh/1e6 kWh × price (micro, owner's
	// currency) / (rate (micro) / 1e6) = mWh × price / rate.
	n := new(big.Int).Mul(big.NewInt(mwh), big.NewInt(int64(price)))
	d := big.NewInt(int64(rate))
	n.Add(n, new(big.Int).Sub(d, big.NewInt(1)))
	n.Quo(n, d)
	if !n.IsInt64() {
		return 0, false
	}
	return localapi.Amount(n.Int64()), true
}
