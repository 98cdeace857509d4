package localapi

import (
	"context"
	"net/http"
)

// Settings are the owner's rules (GET and PUT /v1/settings). The daemon
// validates them (an error names the field), keeps them in
// DATA/settings.json and applies them at once: idle minutes, battery,
// temperature and schedule to the governor, price floor and workloads to
// the quotes it gives.
type Settings struct {
	// IdleMinutes without keyboard or mouse before work may start, 1–240.
	IdleMinutes int `json:"idle_minutes"`
	// RunOnBattery allows work while on battery power.
	RunOnBattery bool `json:"run_on_battery"`
	// MaxTempC is the GPU temperature at which work freezes, 50–95.
	MaxTempC int `json:"max_temp_c"`
	// Schedule is "always" or "HH:MM-HH:MM" in local time (may wrap midnight).
	Schedule string `json:"schedule"`
	// PriceFloor is the lowest price accepted per hour of one GPU (or of
	// one CPU core for CPU-only work), in currency units ("0.36"). Empty:
	// the price the daemon was started with (`spare node --price`).
	PriceFloor string `json:"price_floor"`
	// Workloads are the kinds allowed: "render", "inference"; at least one.
	// With both, jobs that name no kind are taken too.
	Workloads []string `json:"workloads"`
	// ElectricityPrice is what one kWh costs the owner, in Currency
	// ("0.32"). Empty: not set, and no electricity cost or net is shown.
	ElectricityPrice string `json:"electricity_price,omitempty"`
	// Currency is the owner's currency, three capital letters ("EUR").
	// Empty: the token's own.
	Currency string `json:"currency,omitempty"`
	// TokenRate is what one unit of the token is worth in Currency
	// ("0.92"), as the owner sets it: never fetched. Empty: 1.
	TokenRate string `json:"token_rate,omitempty"`
	// NoLoss is "never work at a loss": jobs that would pay less than
	// the electricity their resources burn (at ElectricityPrice, plus
	// LossMargin) are refused, and the ads ask at least that much.
	// Needs ElectricityPrice.
	NoLoss bool `json:"no_loss,omitempty"`
	// LossMargin is the margin over the electricity cost, in percent
	// (0–1000), under NoLoss.
	LossMargin int `json:"loss_margin,omitempty"`
	// CostFloor, on GET, is the floor NoLoss works to now, from the
	// devices' power (nil: NoLoss is off). Ignored on PUT.
	CostFloor *CostFloor `json:"cost_floor,omitempty"`
	// IOUsFromStrangers takes jobs paid in IOUs (the embedded ledger, no
	// chain) from anyone on the public network. A stranger's IOU is only
	// a promise: one that never pays leaves the work unpaid, with no
	// deposit to claim. False: IOUs only from this node's private pool and
	// IOUPeers.
	IOUsFromStrangers bool `json:"ious_from_strangers,omitempty"`
	// IOUPeers are the peer IDs whose IOUs are taken on the public
	// network (friends the owner trusts to pay).
	IOUPeers []string `json:"iou_peers,omitempty"`
	// Relay volunteers this node as a limited relay for Spare nodes
	// behind home routers, so that requesters can meet them: only while
	// this machine is reached directly, never on a metered connection. It
	// costs upload bandwidth (each connection is short and small, and a
	// job's data never goes through it). Applied at once.
	Relay bool `json:"relay,omitempty"`
	// Network is the named network the node is on from the daemon's
	// next start (one of Networks): how money settles and which peers it
	// meets; empty: the embedded ledger (IOUs) on the public network.
	// `spare node --network` overrides it for a run.
	Network string `json:"network,omitempty"`
	// Networks are the named networks this daemon knows
	// (DATA/networks.json: chain presets and private pools), read only;
	// NetworkInUse is the one this run is on (empty: the embedded ledger
	// on the public network, or a --pool of its own), read only.
	Networks     []string `json:"networks,omitempty"`
	NetworkInUse string   `json:"network_in_use,omitempty"`
	// CommandLine lists the fields the daemon's command line set for this
	// run, over the saved settings (read only; a PUT replaces them).
	CommandLine []string `json:"command_line,omitempty"`
	// ReadOnly, on GET, says why this caller may look at the settings but
	// not change them (not an owner, and how to become one); "" when the
	// caller may change them. Ignored on PUT.
	ReadOnly string `json:"read_only,omitempty"`
}

// CostFloor is the least a job pays under "never work at a loss": the
// electricity of an hour of one GPU and of one CPU core, margin included,
// in the token's smallest units, and the power it was computed from.
type CostFloor struct {
	PerGPUHour  Amount `json:"per_gpu_hour"`
	PerCoreHour Amount `json:"per_core_hour"`
	// GPUMilliWatts is the power counted for a GPU (0: no GPU), and
	// CoreMilliWatts for a CPU core.
	GPUMilliWatts  int64 `json:"gpu_mw"`
	CoreMilliWatts int64 `json:"core_mw"`
	// Estimated says a power figure is the device's assumed rating, not
	// one the device reported.
	Estimated bool `json:"estimated,omitempty"`
}

// Settings returns the settings in force.
func (c *Client) Settings(ctx context.Context) (Settings, error) {
	var s Settings
	err := c.do(ctx, http.MethodGet, "/v1/settings", nil, &s)
	return s, err
}

// UpdateSettings validates, saves and applies s, and returns the settings
// now in force. A bad field comes back as an *Error with Field set.
func (c *Client) UpdateSettings(ctx context.Context, s Settings) (Settings, error) {
	var out Settings
	err := c.do(ctx, http.MethodPut, "/v1/settings", s, &out)
	return out, err
}
