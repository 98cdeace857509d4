package localapi

import (
	"context"
	"net/http"
	"time"
)

// Household is GET /v1/household: the Spare machines of this household
// on the LAN (those that share this one's payee address, and those the
// owner paired), each with its state and today's earnings, this machine
// first, and their total.
type Household struct {
	Machines []Machine `json:"machines"`
	// EarnedToday is the machines' earnings today, added up (those that
	// answered).
	EarnedToday Amount `json:"earned_today"`
}

// Ways a machine belongs to the household.
const (
	ViaSelf   = "self"   // this machine
	ViaPayee  = "payee"  // it proved it holds this machine's payee key
	ViaPaired = "paired" // the owner paired it with a code
)

// Machine is one Spare machine of the household.
type Machine struct {
	// Peer is the machine's peer ID: what commands name it by.
	Peer string `json:"peer"`
	Name string `json:"name"`
	// Via says why it belongs (ViaSelf, ViaPayee, ViaPaired).
	Via         string `json:"via"`
	State       State  `json:"state,omitempty"`
	Sentence    string `json:"sentence,omitempty"`
	EarnedToday Amount `json:"earned_today"`
	// Reachable says it answered just now; Problem says why not.
	Reachable bool   `json:"reachable"`
	Problem   string `json:"problem,omitempty"`
}

// Household commands.
const (
	HouseholdPause  = "pause"
	HouseholdResume = "resume"
)

// HouseholdCommand is POST /v1/household/command: pause or resume a
// machine of the household. For bounds a pause ("1h"; empty: until
// resumed).
type HouseholdCommand struct {
	Peer string `json:"peer"`
	Op   string `json:"op"`
	For  string `json:"for,omitempty"`
}

// PairCode is POST /v1/household/code's answer: a code to type on the
// other machine, and until when it works.
type PairCode struct {
	Code    string    `json:"code"`
	Expires time.Time `json:"expires"`
}

// PairRequest is POST /v1/household/pair: the code another machine shows.
type PairRequest struct {
	Code string `json:"code"`
}

// Household returns the household's machines.
func (c *Client) Household(ctx context.Context) (Household, error) {
	var h Household
	err := c.do(ctx, http.MethodGet, "/v1/household", nil, &h)
	return h, err
}

// HouseholdCommand pauses or resumes a machine of the household and
// returns it as it is now.
func (c *Client) HouseholdCommand(ctx context.Context, cmd HouseholdCommand) (Machine, error) {
	var m Machine
	err := c.do(ctx, http.MethodPost, "/v1/household/command", cmd, &m)
	return m, err
}

// PairCode asks for a code that pairs another machine with this one.
func (c *Client) PairCode(ctx context.Context) (PairCode, error) {
	var p PairCode
	err := c.do(ctx, http.MethodPost, "/v1/household/code", struct{}{}, &p)
	return p, err
}

// Pair pairs this machine with the one showing code.
func (c *Client) Pair(ctx context.Context, code string) (Machine, error) {
	var m Machine
	err := c.do(ctx, http.MethodPost, "/v1/household/pair", PairRequest{Code: code}, &m)
	return m, err
}
