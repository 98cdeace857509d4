// Package localapi is the contract between Spare's daemon (`spare node`)
// and its clients: the CLI verbs and the desktop app. It holds the JSON
// types and a client; the server lives in package node. It imports
// nothing heavy, so the app can use it without containerd or libp2p.
//
// Transport: HTTP/1.1 with JSON bodies over a unix socket in the data
// directory (spare.sock, mode 0600, or 0660 when a "spare" group exists).
//
//	GET  /v1/status          Status
//	GET  /v1/events          a stream of Status, one JSON object per line, first the current one,
//	                         then each change, and again whenever the sentence reads differently
//	                         (a countdown: at most once a second)
//	POST /v1/pause           PauseRequest → Status
//	POST /v1/resume          → Status
//	POST /v1/presence        PresenceReport (from the desktop app's sensor) → 204
//	GET  /v1/wallet          Wallet: earned, settled, paid out; today, 7 and 30 days; charts; history
//	POST /v1/wallet/withdraw WithdrawRequest → WithdrawResult
//	POST /v1/wallet/export   ExportRequest → ExportResult (the client writes a 0600 file)
//	GET  /v1/settings        Settings
//	PUT  /v1/settings        Settings → Settings (validated, saved, applied at once)
//	GET  /v1/telemetry       Telemetry: the last hour of readings per device
//	GET  /v1/job             CurrentJob
//	POST /v1/jobs            SubmitRequest → a stream of SubmitEvent, one JSON object per line (the daemon's user only)
//	POST /v1/stop            → Status, then the daemon stops as on SIGTERM (an owner only)
//	GET  /metrics            Prometheus text format
//
// Access (Level): whoever may open the socket reads every GET route and
// may pause and resume; PUT /v1/settings, the wallet's POST routes,
// POST /v1/jobs and POST /v1/stop need an owner (LevelAdmin) and answer others 403
// CodeNeedsOwner. POST /v1/presence is taken only from the user who holds
// the machine's active graphical session according to logind (besides
// root and the daemon's own user); where logind cannot be asked, only
// from owners (403 CodeNotSession). GET /v1/settings says in ReadOnly
// why a caller may not change them.
//
// The event stream sends the status again with Event set when something
// other than the governor's state changed: EventWallet (a voucher, a
// withdrawal), EventSettings, EventJob (the current job started, froze,
// thawed or ended); a client refetches that resource.
//
// Errors are {"error": "...", "code": "...", "field": "..."} with a
// 4xx/5xx status; field names the request field at fault, when one is.
package localapi

import (
	"path/filepath"
	"time"
)

// SocketName is the LocalAPI socket's file name inside the data directory.
const SocketName = "spare.sock"

// SocketPath returns the socket path for a data directory.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// Status is the daemon's state as a person and a script see it.
type Status struct {
	PeerID string   `json:"peer_id"`
	Addrs  []string `json:"addrs"`
	// Network is the named network the node is on: the one --network or
	// Settings chose (DATA/networks.json), else "public" or the --pool
	// name ("" before the node's p2p host runs). NetworkLine says it in
	// a sentence.
	Network string `json:"network,omitempty"`
	// Pool is the private pool the node meets its peers in ("" on the
	// public Spare network). Settles says where its money settles:
	// "ledger" (IOUs in the embedded ledger) or the chain preset's name.
	Pool    string `json:"pool,omitempty"`
	Settles string `json:"settles,omitempty"`
	// SparePeers is how many Spare nodes of that network are connected.
	SparePeers int `json:"spare_peers"`
	// Reach says how others reach this node: "direct", "hole-punching",
	// "relay-only" (jobs cannot run here) or "unknown"; ReachHint what
	// the owner can do about it.
	Reach     string `json:"reach,omitempty"`
	ReachHint string `json:"reach_hint,omitempty"`
	// HolePunches are the connections through a relay that hole punching
	// (DCUtR) turned into direct ones since the node started;
	// HolePunchFails the hole punches that failed.
	HolePunches    int `json:"hole_punches,omitempty"`
	HolePunchFails int `json:"hole_punch_fails,omitempty"`
	// Relay says whether this node relays for others (empty: no p2p
	// host); RelayNodes are the nodes behind NATs holding a reservation
	// with it, RelayCircuits the connections it carries now.
	Relay         RelayState `json:"relay,omitempty"`
	RelayNodes    int        `json:"relay_nodes,omitempty"`
	RelayCircuits int        `json:"relay_circuits,omitempty"`
	// State is the governor's state: Off, Paused, Waiting, Available,
	// Running, Frozen or Draining.
	State State `json:"state"`
	// Reason is the stable code behind State ("active", "battery", …).
	Reason Reason `json:"reason"`
	// Sentence is what the window shows verbatim, to the second, rendered
	// at Updated from the governor's timestamps ("starting in 4 min 57 s").
	Sentence string `json:"sentence"`
	// Brief is the sentence with durations to the minute: the tray's
	// line, which changes about once a minute.
	Brief string `json:"brief,omitempty"`
	// Job is the running or frozen job's ID ("" when none).
	Job string `json:"job"`
	// Until is when a pause ends (zero: not paused, or until resumed).
	Until time.Time `json:"until,omitzero"`
	// EarnedToday is today's earnings in currency units ("0.123456").
	EarnedToday string   `json:"earned_today"`
	Devices     []Device `json:"devices"`
	// GPU says why there are no devices, when there are none.
	GPU     string `json:"gpu,omitempty"`
	Version string `json:"version"`
	// Updated is when this copy was rendered (the sentence is true then).
	Updated time.Time `json:"updated"`
	// Notice is a line from whoever started the daemon for the owner to
	// read (the playground says its idle time is shortened); "" for none.
	Notice string `json:"notice,omitempty"`
	// BelowCost says how many jobs the last hour were refused because
	// they paid less than the electricity ("never work at a loss"), with
	// the floor; "" when none.
	BelowCost string `json:"below_cost,omitempty"`
	// Event says what this copy of the status announces on the event
	// stream ("" for the governor's state; see the Event constants).
	Event Event `json:"event,omitempty"`
}

// Device is one GPU's standing.
type Device struct {
	Index  int    `json:"index"`
	UUID   string `json:"uuid"`
	Name   string `json:"name"`
	Usable bool   `json:"usable"`
	Reason Reason `json:"reason,omitempty"`
	Job    string `json:"job,omitempty"`
}

// PauseRequest pauses sharing: For ("1h", "30m"), or Until ("tomorrow"),
// or neither for until resumed.
type PauseRequest struct {
	For   string `json:"for,omitempty"`
	Until string `json:"until,omitempty"`
}

// PresenceReport is what the desktop app's sensor pushes.
type PresenceReport struct {
	IdleMS    int64  `json:"idle_ms"`
	IdleKnown bool   `json:"idle_known"`
	Locked    bool   `json:"locked,omitempty"`
	Game      string `json:"game,omitempty"`
	Source    string `json:"source,omitempty"`
}

// Error is the body of a failed request.
type Error struct {
	Message string `json:"error"`
	Code    Code   `json:"code"`
	// Field is the request field at fault ("to", "idle_minutes"), if any.
	Field string `json:"field,omitempty"`
	// RetryAt, when set, is the earliest time the request may be tried
	// again (CodeTooManyTries; after a wrong passphrase, when the next
	// guess must wait).
	RetryAt time.Time `json:"retry_at,omitzero"`
}

func (e *Error) Error() string { return e.Message }
