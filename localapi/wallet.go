package localapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Amount is money in the token's smallest unit (6 decimals: 1_000_000 is
// one currency unit). It travels as a JSON integer; clients format it with
// String and never do float arithmetic on it.
type Amount int64

// String formats a in currency units with all six decimals ("0.123456").
func (a Amount) String() string {
	u := uint64(a)
	sign := ""
	if a < 0 {
		u, sign = uint64(-a), "-"
	}
	return fmt.Sprintf("%s%d.%06d", sign, u/1_000_000, u%1_000_000)
}

// Wallet is GET /v1/wallet: the wallet's figures. Days and hours are UTC
// buckets, as the ledger keeps them.
type Wallet struct {
	Address string `json:"address"`
	// Unit is the currency the amounts count in ("USDC").
	Unit string `json:"unit"`
	// Earned is what requesters signed vouchers for (best voucher per channel).
	Earned Amount `json:"earned"`
	// Settled is the part of Earned the settlement backend confirmed.
	Settled Amount `json:"settled"`
	// PaidOut is what was withdrawn out of the wallet.
	PaidOut Amount `json:"paid_out"`
	// Pending is Earned − Settled.
	Pending Amount `json:"pending"`
	// Available is Settled − PaidOut: what may be withdrawn now.
	Available Amount `json:"available"`
	// Lost is what vouchers held beyond what was settled on channels
	// their payer closed: it will never be paid (not part of Pending).
	Lost Amount `json:"lost"`
	// Today, Week and Month are earnings since the start of today, of the
	// last 7 and of the last 30 days (UTC, today included).
	Today Amount `json:"today"`
	Week  Amount `json:"week"`
	Month Amount `json:"month"`
	// Hours are the last 24 hours' earnings, one point per hour, oldest
	// first; the last point is the current hour.
	Hours []Point `json:"hours"`
	// Days are the last 30 days' earnings, one point per day, oldest first.
	Days []Point `json:"days"`
	// History is the latest money movements (jobs paid, withdrawals),
	// newest first, at most MaxHistory.
	History []Activity `json:"history"`
	// Energy is the electricity the jobs used: a view beside the money,
	// never a ledger entry.
	Energy Energy `json:"energy"`
	// Money says where the money is: on a chain, or in the embedded
	// ledger as IOUs.
	Money   Funds     `json:"money"`
	Updated time.Time `json:"updated"`
}

// Funds is where a wallet's money is.
type Funds struct {
	// Network is the chain preset's name; empty: the embedded ledger,
	// whose balances are IOUs between people who trust each other.
	Network string `json:"network,omitempty"`
	ChainID uint64 `json:"chain_id,omitempty"`
	Symbol  string `json:"symbol,omitempty"`
	// OnChain is the wallet's token balance on the chain; OnChainError
	// says why it could not be read just now.
	OnChain      Amount `json:"on_chain"`
	OnChainError string `json:"on_chain_error,omitempty"`
	// Pending is what vouchers hold beyond what is settled, per channel.
	Pending []PendingSettlement `json:"pending,omitempty"`
	// Settle is when the daemon settles what is pending.
	Settle SettleRule `json:"settle"`
	// Transactions are the latest sent on the chain, newest first, at
	// most MaxHistory.
	Transactions []Transaction `json:"transactions,omitempty"`
	// Gas is what every recorded transaction (settlements, payouts, the
	// requester's deposits and withdrawals, reverted ones) cost.
	Gas GasSpent `json:"gas"`
}

// GasSpent is what the wallet's transactions on the chain cost in gas.
type GasSpent struct {
	Txs  int    `json:"txs"`
	Used uint64 `json:"used"` // gas units
	// Wei is the cost in the chain's native unit, a decimal integer in a
	// string (it outgrows what a JSON number carries exactly).
	Wei string `json:"wei"`
	// Unpriced counts transactions whose gas price was not recorded
	// (sent by an older spare): their cost is missing from Wei.
	Unpriced int `json:"unpriced,omitempty"`
	// Priced says the network gives what its native coin is worth in its
	// token (token_per_native): Token is Wei in the token's smallest unit
	// (rounded up) and Net is Settled − Token.
	Priced bool   `json:"priced,omitempty"`
	Token  Amount `json:"token,omitempty"`
	Net    Amount `json:"net,omitempty"`
}

// SettleRule is the daemon's settlement policy (package wallet/evm's
// SettlePolicy) as it stands: a settlement costs gas whatever it pays, so
// a channel settles when its unsettled value reaches Threshold, as soon
// as its payer asks to close, and in any case before the payer may
// withdraw.
type SettleRule struct {
	// Threshold is the unsettled value per channel that settles it, at
	// the gas price now: the network's settle_threshold (Base), raised to
	// GasFactor times a settlement's gas (GasCost, in the token; 0:
	// unknown, the network gives no token_per_native). Zero: not known
	// (a daemon without a chain); at or above SettleNever: no amount is worth
	// the gas, it settles only on a close request.
	Threshold Amount `json:"threshold"`
	Base      Amount `json:"base"`
	GasFactor int64  `json:"gas_factor"`
	GasCost   Amount `json:"gas_cost,omitempty"`
	// CheckSeconds is how often the daemon looks for settlements due.
	CheckSeconds int64 `json:"check_s"`
}

// SettleNever is SettleRule.Threshold when no amount is worth a settlement's gas.
const SettleNever Amount = 1 << 62

// PendingSettlement is one channel's unsettled vouchers.
type PendingSettlement struct {
	Channel string `json:"channel"`
	Amount  Amount `json:"amount"`
	// By is when the channel's payer may withdraw what is not settled:
	// the payer asked to close, and the grace period after the close
	// request (or after the deposit's lock, whichever is later) ends
	// then. Zero: no close requested.
	By time.Time `json:"by,omitzero"`
	// Waiting says why its settlement, sent, is not mined yet: its fee is
	// held at the cap on what a settlement may spend on gas, and it waits
	// for the chain's fees to fall. Empty: nothing waits.
	Waiting string `json:"waiting,omitempty"`
}

// Transaction is one transaction the wallet sent on the chain.
type Transaction struct {
	At time.Time `json:"at"`
	// Kind is settle, close or payout, or the call for the wallet's other
	// transactions: approve, open, topUp, requestClose, withdraw, …
	Kind string `json:"kind"`
	Hash string `json:"hash"`
	// URL is the transaction on the network's explorer; empty: none.
	URL     string `json:"url,omitempty"`
	Amount  Amount `json:"amount"`
	Dropped bool   `json:"dropped,omitempty"` // a reorg took it out: it is sent again
	// Reverted: mined and failed; it cost its gas and did nothing.
	Reverted bool `json:"reverted,omitempty"`
	// GasUsed is the gas units it used; GasWei their cost in wei (a
	// decimal integer; empty: its gas price was not recorded); GasToken
	// that cost in the token when Funds.Gas.Priced.
	GasUsed  uint64 `json:"gas_used,omitempty"`
	GasWei   string `json:"gas_wei,omitempty"`
	GasToken Amount `json:"gas_token,omitempty"`
}

// Energy is the electricity jobs used today, in the last 7 and the last
// 30 days (the running job's so far counts as today's), in milliwatt-hours.
type Energy struct {
	TodayMWh int64 `json:"today_mwh"`
	WeekMWh  int64 `json:"week_mwh"`
	MonthMWh int64 `json:"month_mwh"`
	// Estimated says part of it was estimated from rated power.
	Estimated bool `json:"estimated,omitempty"`
	// Priced says the owner set an electricity price: the Cost figures
	// are the energy at that price, in the token's units.
	Priced    bool   `json:"priced,omitempty"`
	CostToday Amount `json:"cost_today,omitempty"`
	CostWeek  Amount `json:"cost_week,omitempty"`
	CostMonth Amount `json:"cost_month,omitempty"`
	// Currency is the owner's currency, when set with a price: the Local
	// figures are the same costs in it, in millionths.
	Currency   string `json:"currency,omitempty"`
	LocalToday Money  `json:"local_today,omitempty"`
	LocalWeek  Money  `json:"local_week,omitempty"`
	LocalMonth Money  `json:"local_month,omitempty"`
}

// MaxHistory is how many entries Wallet.History holds at most.
const MaxHistory = 50

// Point is one bar of an earnings chart.
type Point struct {
	Start  time.Time `json:"start"`
	Earned Amount    `json:"earned"`
}

// Activity kinds.
const (
	ActivityJob    = "job"    // a job's earnings (its vouchers together)
	ActivityPayout = "payout" // a withdrawal out of the wallet
)

// Activity is one line of the wallet's history.
type Activity struct {
	// At is when it happened (for a job: its latest voucher).
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Job is the job's hash (ActivityJob).
	Job string `json:"job,omitempty"`
	// Agreement names this run of the job (its agreement's ID), when known.
	Agreement string `json:"agreement,omitempty"`
	// To is where a payout went (ActivityPayout).
	To     string `json:"to,omitempty"`
	Amount Amount `json:"amount"`
	// EnergyMWh is the electricity the job used (0: not known), partly
	// estimated from rated power when EnergyEstimated.
	EnergyMWh       int64 `json:"energy_mwh,omitempty"`
	EnergyEstimated bool  `json:"energy_estimated,omitempty"`
	// Priced says the owner set an electricity price: Electricity is the
	// energy's cost in the token (Amount − Electricity is the job's net),
	// and ElectricityLocal the same in Currency when the owner set one.
	Priced           bool   `json:"priced,omitempty"`
	Electricity      Amount `json:"electricity,omitempty"`
	Currency         string `json:"currency,omitempty"`
	ElectricityLocal Money  `json:"electricity_local,omitempty"`
}

// WithdrawRequest is POST /v1/wallet/withdraw: pay settled earnings out to
// an Ethereum address. Passphrase is the wallet keystore's passphrase
// (the daemon's generated one is in DATA/wallet/passphrase); it is checked
// and never stored or logged.
type WithdrawRequest struct {
	To string `json:"to"`
	// Amount in currency units as a person types it ("1.25").
	Amount     string `json:"amount"`
	Passphrase string `json:"passphrase"`
}

// WithdrawResult is the answer to a withdrawal.
type WithdrawResult struct {
	To        string `json:"to"`
	Amount    Amount `json:"amount"`
	Available Amount `json:"available"` // what remains withdrawable
}

// ExportRequest is POST /v1/wallet/export: the wallet key as a keystore
// v3 file. Passphrase unlocks it; NewPassphrase, when set, re-encrypts the
// copy (for a wallet elsewhere). Neither is stored or logged.
type ExportRequest struct {
	Passphrase    string `json:"passphrase"`
	NewPassphrase string `json:"new_passphrase,omitempty"`
}

// ExportResult carries the keystore file (encrypted JSON).
type ExportResult struct {
	Address  string `json:"address"`
	Keystore []byte `json:"keystore"`
}

// Wallet returns the wallet's figures.
func (c *Client) Wallet(ctx context.Context) (Wallet, error) {
	var w Wallet
	err := c.do(ctx, http.MethodGet, "/v1/wallet", nil, &w)
	return w, err
}

// Withdraw pays settled earnings out to an address.
func (c *Client) Withdraw(ctx context.Context, r WithdrawRequest) (WithdrawResult, error) {
	var out WithdrawResult
	err := c.do(ctx, http.MethodPost, "/v1/wallet/withdraw", r, &out)
	return out, err
}

// ExportKeystore asks the daemon for the keystore file and writes it to
// path with mode 0600. It refuses to replace an existing file.
func (c *Client) ExportKeystore(ctx context.Context, r ExportRequest, path string) (ExportResult, error) {
	if path == "" {
		return ExportResult{}, &Error{Message: "export: name the file to write", Code: CodeInvalid, Field: "path"}
	}
	var out ExportResult
	if err := c.do(ctx, http.MethodPost, "/v1/wallet/export", r, &out); err != nil {
		return out, err
	}
	return out, WriteKeystoreFile(path, out.Keystore)
}

// WriteKeystoreFile writes an exported key to a new file at path with mode
// 0600, for the client above and for `spare wallet export --out`. It never
// replaces a file and never writes through a link: O_CREATE|O_EXCL fails on
// any existing name, a symbolic link (even a dangling one) included. A
// failed write removes the partial file.
func WriteKeystoreFile(path string, keystore []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("export: %s already exists; choose another file name", path)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := f.Write(keystore); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("export: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("export: writing %s: %w", path, err)
	}
	return f.Close()
}
