package evm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/internal/atomicfile"
	"github.com/sparegpu/spare/wallet"
)

// NetworksFile holds the network presets of a data directory, an object
// from name to Network:
//
//	{"mynet": {"chain_id": 1337, "rpc": ["http://127.0.0.1:8545"],
//	  "escrow": "0x…", "token": "0x…", "symbol": "tUSD", "decimals": 6,
//	  "confirmations": 1, "explorer": "https://explorer.example/tx/{tx}"}}
const NetworksFile = "networks.json"

// Limits on a networks file and its presets.
const (
	maxNetworksFile     = 64 << 10
	maxNetworks         = 32
	maxRPCs             = 8
	maxURL              = 512
	maxConfirmations    = 256
	LocalNetwork        = "local" // the development preset's name
	LocalChainID        = 1337    // geth --dev's chain ID
	LocalRPC            = "http://127.0.0.1:8545"
	TokenDecimals       = 6 // Spare counts money in millionths
	explorerPlaceholder = "{tx}"
)

// Preset field names, as in the networks file; errors name them.
const (
	FieldName            = "name"
	FieldChainID         = "chain_id"
	FieldRPC             = "rpc"
	FieldEscrow          = "escrow"
	FieldToken           = "token"
	FieldSymbol          = "symbol"
	FieldDecimals        = "decimals"
	FieldConfirmations   = "confirmations"
	FieldExplorer        = "explorer"
	FieldSettleThreshold = "settle_threshold"
	FieldTokenPerNative  = "token_per_native"
	FieldMaxFeePercent   = "max_fee_percent"
	FieldBumpAfter       = "bump_after"
)

// The peer-to-peer part of a named network in the same file: which
// Spare network its nodes meet on. Package networks reads and validates
// it; this package leaves it alone, and an entry that has nothing else
// settles in the embedded ledger, so it is no chain preset.
const (
	FieldPool       = "pool"
	FieldAllowPeers = "allow_peers"
)

// p2pField says whether key belongs to the peer-to-peer part of an entry.
func p2pField(key string) bool { return key == FieldPool || key == FieldAllowPeers }

// MaxNetworksFile bounds the networks file.
const MaxNetworksFile = maxNetworksFile

// Bounds on the settlement fields of a preset.
const (
	maxSettleThreshold = 1_000_000_000_000 // a million tokens
	maxTokenPerNative  = 1 << 50
	maxMaxFeePercent   = 100  // a settlement never spends more on gas than it pays
	maxBumpAfter       = 1000 // blocks: hours on most chains, longer than the margin before a payer may withdraw
)

// Network is a named preset: where money settles.
type Network struct {
	Name          string         `json:"-"`
	ChainID       uint64         `json:"chain_id"`
	RPC           []string       `json:"rpc"`           // tried in order
	Escrow        common.Address `json:"escrow"`        // SpareEscrow
	Token         common.Address `json:"token"`         // the ERC-20 deposits are made in
	Symbol        string         `json:"symbol"`        // the token's symbol, shown beside amounts
	Decimals      uint8          `json:"decimals"`      // must be 6
	Confirmations uint64         `json:"confirmations"` // blocks on top of a transaction's before it counts; 0 means 1
	Explorer      string         `json:"explorer"`      // URL template with {tx}; empty: no links
	// TokenPerNative is what one native coin (1e18 wei) is worth in token
	// units, for weighing a settlement's gas against what it pays
	// (SettlePolicy.GasFactor); 0: unknown, the threshold alone applies.
	TokenPerNative uint64 `json:"token_per_native,omitempty"`
	// SettleThreshold is the unsettled value, in token units, at which a
	// provider settles a channel; 0: DefaultSettleThreshold.
	SettleThreshold uint64 `json:"settle_threshold,omitempty"`
	// MaxFeePercent caps a settlement's gas at this percent of what it
	// pays (weighed with TokenPerNative; SettlePolicy.MaxFeePercent);
	// 0: DefaultMaxFeePercent.
	MaxFeePercent uint64 `json:"max_fee_percent,omitempty"`
	// BumpAfter is how many blocks a settlement's transaction may sit
	// unmined before it is replaced at a higher fee
	// (SettlePolicy.BumpAfter); 0: DefaultBumpAfter.
	BumpAfter uint64 `json:"bump_after,omitempty"`
}

// Policy is the settlement policy the preset sets: its threshold, fee
// cap and bump interval; the rest at their defaults.
func (n Network) Policy() SettlePolicy {
	return SettlePolicy{Threshold: wallet.Amount(n.SettleThreshold), MaxFeePercent: int64(n.MaxFeePercent), BumpAfter: n.BumpAfter}
}

// Local is the built-in development preset: geth --dev on its default
// port. Its contracts have no fixed addresses; `spare chain deploy`
// writes a "local" preset with them into the networks file, which then
// takes its place.
func Local() Network {
	return Network{Name: LocalNetwork, ChainID: LocalChainID, RPC: []string{LocalRPC},
		Symbol: "tUSD", Decimals: TokenDecimals, Confirmations: 1,
		MaxFeePercent: DefaultMaxFeePercent, BumpAfter: DefaultBumpAfter}
}

// ErrPreset marks a network preset that is malformed or does not match
// its chain.
var ErrPreset = errors.New("network preset")

// FieldError is a preset error naming the network and the field.
type FieldError struct{ Network, Field, Msg string }

func (e *FieldError) Error() string {
	return fmt.Sprintf("network %q: %s: %s", e.Network, e.Field, e.Msg)
}

// Unwrap lets callers test for ErrPreset.
func (e *FieldError) Unwrap() error { return ErrPreset }

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	symbolRE = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)
)

// ConfirmationsOrDefault is how many blocks a transaction waits for.
func (n Network) ConfirmationsOrDefault() uint64 { return max(n.Confirmations, 1) }

// Validate checks every field; the error names the first bad one.
func (n Network) Validate() error {
	bad := func(field, format string, a ...any) error {
		return &FieldError{Network: n.Name, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case !nameRE.MatchString(n.Name):
		return bad(FieldName, "want 1 to 32 lower-case letters, digits or '-', starting with a letter or digit")
	case n.ChainID == 0:
		return bad(FieldChainID, "must be set (the chain's EIP-155 ID, e.g. 1337 for geth --dev)")
	case len(n.RPC) == 0:
		return bad(FieldRPC, "give at least one JSON-RPC URL")
	case len(n.RPC) > maxRPCs:
		return bad(FieldRPC, "%d URLs: at most %d", len(n.RPC), maxRPCs)
	}
	for i, u := range n.RPC {
		if err := checkRPC(u); err != nil {
			return bad(fmt.Sprintf("%s[%d]", FieldRPC, i), "%v", err)
		}
	}
	switch {
	case n.Escrow == (common.Address{}):
		return bad(FieldEscrow, "not set: deploy the escrow with `spare chain deploy --rpc URL` or copy its address into %s", NetworksFile)
	case n.Token == (common.Address{}):
		return bad(FieldToken, "not set: the ERC-20 contract deposits are made in")
	case n.Token == n.Escrow:
		return bad(FieldToken, "is the escrow's address %s: they are two contracts", n.Escrow.Hex())
	case !symbolRE.MatchString(n.Symbol):
		return bad(FieldSymbol, "%q: want 1 to 11 letters or digits", n.Symbol)
	case n.Decimals != TokenDecimals:
		return bad(FieldDecimals, "%d: Spare counts money in millionths, so the token must have %d decimals", n.Decimals, TokenDecimals)
	case n.Confirmations > maxConfirmations:
		return bad(FieldConfirmations, "%d: at most %d", n.Confirmations, maxConfirmations)
	case n.SettleThreshold > maxSettleThreshold:
		return bad(FieldSettleThreshold, "%d: at most %d token units (a provider would hardly ever settle)", n.SettleThreshold, maxSettleThreshold)
	case n.TokenPerNative > maxTokenPerNative:
		return bad(FieldTokenPerNative, "%d: at most %d token units per native coin", n.TokenPerNative, maxTokenPerNative)
	case n.MaxFeePercent > maxMaxFeePercent:
		return bad(FieldMaxFeePercent, "%d: at most %d (percent of what a settlement pays that its gas may cost; 0: the default %d)",
			n.MaxFeePercent, maxMaxFeePercent, DefaultMaxFeePercent)
	case n.BumpAfter > maxBumpAfter:
		return bad(FieldBumpAfter, "%d: at most %d blocks before an unmined settlement is sent again at a higher fee (0: the default %d)",
			n.BumpAfter, maxBumpAfter, DefaultBumpAfter)
	}
	if n.Explorer != "" {
		if err := checkExplorer(n.Explorer); err != nil {
			return bad(FieldExplorer, "%v", err)
		}
	}
	return nil
}

func checkRPC(s string) error {
	if len(s) > maxURL {
		return fmt.Errorf("longer than %d bytes", maxURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	if !slices.Contains([]string{"http", "https", "ws", "wss"}, u.Scheme) || u.Host == "" {
		return fmt.Errorf("%q: want http(s):// or ws(s):// with a host", redactURL(s))
	}
	return nil
}

func checkExplorer(s string) error {
	if len(s) > maxURL {
		return fmt.Errorf("longer than %d bytes", maxURL)
	}
	if strings.Count(s, explorerPlaceholder) != 1 {
		return fmt.Errorf("%q: want one %s where the transaction hash goes", s, explorerPlaceholder)
	}
	u, err := url.Parse(strings.Replace(s, explorerPlaceholder, "0x00", 1))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q: want an http(s) URL with a host", s)
	}
	return nil
}

// TxURL is the explorer link for a transaction, or "" without an explorer.
func (n Network) TxURL(tx common.Hash) string {
	if n.Explorer == "" {
		return ""
	}
	return strings.Replace(n.Explorer, explorerPlaceholder, tx.Hex(), 1)
}

// redactURL keeps the scheme and host of an RPC URL: paths and user
// information often carry a provider's API key, which is never logged.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	if u.Path != "" && u.Path != "/" || u.User != nil || u.RawQuery != "" {
		return u.Scheme + "://" + u.Host + "/…"
	}
	return u.Scheme + "://" + u.Host
}

// presetJSON is a preset as written, addresses as strings so that a bad
// one is reported with its field.
type presetJSON struct {
	ChainID       uint64   `json:"chain_id"`
	RPC           []string `json:"rpc"`
	Escrow        string   `json:"escrow"`
	Token         string   `json:"token"`
	Symbol        string   `json:"symbol"`
	Decimals      uint8    `json:"decimals"`
	Confirmations uint64   `json:"confirmations"`
	Explorer      string   `json:"explorer,omitempty"`
	// Settlement policy (see Network): omitted when zero.
	SettleThreshold uint64 `json:"settle_threshold,omitempty"`
	TokenPerNative  uint64 `json:"token_per_native,omitempty"`
	MaxFeePercent   uint64 `json:"max_fee_percent,omitempty"`
	BumpAfter       uint64 `json:"bump_after,omitempty"`
}

func parseAddress(network, field, s string) (common.Address, error) {
	if !common.IsHexAddress(s) || !strings.HasPrefix(s, "0x") {
		return common.Address{}, &FieldError{network, field, fmt.Sprintf("%q: want 0x followed by 40 hex digits", s)}
	}
	return common.HexToAddress(s), nil
}

// DecodeNetworks reads a networks file, validating every preset.
func DecodeNetworks(r io.Reader) (map[string]Network, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxNetworksFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxNetworksFile {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", NetworksFile, ErrPreset, maxNetworksFile)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w: not a JSON object of presets: %v", NetworksFile, ErrPreset, err)
	}
	if len(raw) > maxNetworks {
		return nil, fmt.Errorf("%s: %w: %d presets, at most %d", NetworksFile, ErrPreset, len(raw), maxNetworks)
	}
	out := make(map[string]Network, len(raw))
	for name, msg := range raw {
		if !nameRE.MatchString(name) {
			return nil, Network{Name: name}.Validate()
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(msg, &fields); err != nil || fields == nil {
			return nil, &FieldError{name, "(preset)", "not a JSON object of fields"}
		}
		if len(fields) == 0 {
			return nil, &FieldError{name, "(preset)", "empty: give a chain's fields (chain_id, rpc, escrow, token, …), or a pool for a network that settles in the embedded ledger"}
		}
		chainOnly := make(map[string]json.RawMessage, len(fields))
		for k, v := range fields {
			if !p2pField(k) {
				chainOnly[k] = v
			}
		}
		if len(chainOnly) == 0 {
			continue // settles in the embedded ledger: no chain preset
		}
		msg, _ = json.Marshal(chainOnly)
		d := json.NewDecoder(bytes.NewReader(msg))
		d.DisallowUnknownFields()
		var p presetJSON
		if err := d.Decode(&p); err != nil {
			return nil, &FieldError{name, "(preset)", fmt.Sprintf("%v (fields: chain_id, rpc, escrow, token, symbol, decimals, confirmations, explorer, settle_threshold, token_per_native, max_fee_percent, bump_after, pool, allow_peers)", err)}
		}
		n := Network{Name: name, ChainID: p.ChainID, RPC: p.RPC, Symbol: p.Symbol,
			Decimals: p.Decimals, Confirmations: p.Confirmations, Explorer: p.Explorer,
			SettleThreshold: p.SettleThreshold, TokenPerNative: p.TokenPerNative,
			MaxFeePercent: p.MaxFeePercent, BumpAfter: p.BumpAfter}
		if n.Escrow, err = parseAddress(name, FieldEscrow, p.Escrow); err != nil {
			return nil, err
		}
		if n.Token, err = parseAddress(name, FieldToken, p.Token); err != nil {
			return nil, err
		}
		if err := n.Validate(); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, nil
}

// LoadNetworks reads DATA/networks.json; a missing file is no presets.
func LoadNetworks(dataDir string) (map[string]Network, error) {
	f, err := os.Open(filepath.Join(dataDir, NetworksFile))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Network{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeNetworks(f)
}

// Choose resolves --network NAME and --rpc URL: the named preset from
// the data directory's file (or the built-in local shape), with rpc, when
// given, in place of its URLs. An empty name with an rpc picks "local".
// The result is validated.
func Choose(dataDir, name, rpc string) (Network, error) {
	if name == "" {
		name = LocalNetwork
	}
	all, err := LoadNetworks(dataDir)
	if err != nil {
		return Network{}, err
	}
	n, ok := all[name]
	if !ok {
		if name != LocalNetwork {
			names := make([]string, 0, len(all))
			for k := range all {
				names = append(names, k)
			}
			slices.Sort(names)
			return Network{}, fmt.Errorf("%w: no network %q in %s (known: %s, and the built-in %s)",
				ErrPreset, name, filepath.Join(dataDir, NetworksFile), strings.Join(names, ", "), LocalNetwork)
		}
		n = Local()
	}
	if rpc != "" {
		n.RPC = []string{rpc}
	}
	return n, n.Validate()
}

// SaveNetwork writes n into DATA/networks.json (0600), replacing the
// chain fields of a preset of the same name and keeping everything else:
// the other entries as written, and the entry's peer-to-peer part.
func SaveNetwork(dataDir string, n Network) error {
	if err := n.Validate(); err != nil {
		return err
	}
	if _, err := LoadNetworks(dataDir); err != nil {
		return err
	}
	raw := map[string]map[string]json.RawMessage{}
	b, err := os.ReadFile(filepath.Join(dataDir, NetworksFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &raw); err != nil {
			return fmt.Errorf("%s: %w: %v", NetworksFile, ErrPreset, err)
		}
	}
	if len(raw) >= maxNetworks && raw[n.Name] == nil {
		return fmt.Errorf("%s: %w: %d presets already, at most %d", NetworksFile, ErrPreset, len(raw), maxNetworks)
	}
	chain, err := json.Marshal(presetJSON{ChainID: n.ChainID, RPC: n.RPC, Escrow: n.Escrow.Hex(), Token: n.Token.Hex(), Symbol: n.Symbol,
		Decimals: n.Decimals, Confirmations: n.Confirmations, Explorer: n.Explorer,
		SettleThreshold: n.SettleThreshold, TokenPerNative: n.TokenPerNative,
		MaxFeePercent: n.MaxFeePercent, BumpAfter: n.BumpAfter})
	if err != nil {
		return err
	}
	entry := map[string]json.RawMessage{}
	if err := json.Unmarshal(chain, &entry); err != nil {
		return err
	}
	for k, v := range raw[n.Name] {
		if p2pField(k) {
			entry[k] = v
		}
	}
	raw[n.Name] = entry
	out, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dataDir, NetworksFile), append(out, '\n'), 0o600)
}

// scrub replaces an RPC URL in err's text with its redacted form: HTTP
// errors quote the URL whole, API key and all.
func scrub(err error, rawURL string) error {
	if err == nil || rawURL == "" || !strings.Contains(err.Error(), rawURL) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), rawURL, redactURL(rawURL)))
}
