package evm

import (
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sparegpu/spare/wallet"
)

const goodPreset = `{"chain_id": 1337, "rpc": ["http://127.0.0.1:8545"],
 "escrow": "0x00000000000000000000000000000000000000e5", "token": "0x00000000000000000000000000000000000000a0",
 "symbol": "tUSD", "decimals": 6, "confirmations": 2, "explorer": "https://scan.example/tx/{tx}"}`

// TestDecodeNetworksHostile feeds the networks file what a careless or
// hostile hand would write; each error names the preset and the field.
func TestDecodeNetworksHostile(t *testing.T) {
	edit := func(old, new string) string { return `{"n": ` + strings.Replace(goodPreset, old, new, 1) + `}` }
	for _, tc := range []struct{ name, file, want string }{
		{"not JSON", `{"n": `, "not a JSON object"},
		{"array", `[1,2]`, "not a JSON object"},
		{"bad name", `{"My Net": ` + goodPreset + `}`, `"My Net": name:`},
		{"unknown field", edit(`"decimals": 6`, `"decimals": 6, "fallback": "ledger"`), `"fallback"`},
		{"no chain id", edit(`"chain_id": 1337`, `"chain_id": 0`), "chain_id: must be set"},
		{"negative chain id", edit(`"chain_id": 1337`, `"chain_id": -1`), `"n": (preset)`},
		{"no rpc", edit(`["http://127.0.0.1:8545"]`, `[]`), "rpc: give at least one"},
		{"file rpc", edit(`http://127.0.0.1:8545`, `file:///etc/passwd`), "rpc[0]: "},
		{"rpc without host", edit(`http://127.0.0.1:8545`, `http://`), "rpc[0]: "},
		{"too many rpcs", edit(`["http://127.0.0.1:8545"]`, `["http://a","http://a","http://a","http://a","http://a","http://a","http://a","http://a","http://a"]`), "rpc: 9 URLs"},
		{"short escrow", edit(`0x00000000000000000000000000000000000000e5`, `0xe5`), "escrow: \"0xe5\""},
		{"escrow without 0x", edit(`0x00000000000000000000000000000000000000e5`, `00000000000000000000000000000000000000e5`), "escrow: "},
		{"zero escrow", edit(`0x00000000000000000000000000000000000000e5`, `0x0000000000000000000000000000000000000000`), "escrow: not set"},
		{"token is escrow", edit(`0x00000000000000000000000000000000000000a0`, `0x00000000000000000000000000000000000000e5`), "token: is the escrow's"},
		{"18 decimals", edit(`"decimals": 6`, `"decimals": 18`), "decimals: 18"},
		{"decimals overflow", edit(`"decimals": 6`, `"decimals": 300`), `(preset)`},
		{"symbol with markup", edit(`"tUSD"`, `"<b>USD</b>"`), "symbol: "},
		{"symbol too long", edit(`"tUSD"`, `"ABCDEFGHIJKL"`), "symbol: "},
		{"confirmations", edit(`"confirmations": 2`, `"confirmations": 100000`), "confirmations: 100000"},
		{"explorer without {tx}", edit(`https://scan.example/tx/{tx}`, `https://scan.example/tx/`), "explorer: "},
		{"explorer twice {tx}", edit(`https://scan.example/tx/{tx}`, `https://scan.example/{tx}/{tx}`), "explorer: "},
		{"javascript explorer", edit(`https://scan.example/tx/{tx}`, `javascript:alert({tx})`), "explorer: "},
		{"huge", `{"n": "` + strings.Repeat("x", maxNetworksFile) + `"}`, "larger than"},
		{"settle threshold too high", edit(`"decimals": 6`, `"decimals": 6, "settle_threshold": 1000000000001`), "settle_threshold: 1000000000001"},
		{"negative settle threshold", edit(`"decimals": 6`, `"decimals": 6, "settle_threshold": -1`), `(preset)`},
		{"fee cap above 100%", edit(`"decimals": 6`, `"decimals": 6, "max_fee_percent": 101`), "max_fee_percent: 101: at most 100"},
		{"negative fee cap", edit(`"decimals": 6`, `"decimals": 6, "max_fee_percent": -5`), `(preset)`},
		{"fractional fee cap", edit(`"decimals": 6`, `"decimals": 6, "max_fee_percent": 2.5`), `(preset)`},
		{"fee cap as text", edit(`"decimals": 6`, `"decimals": 6, "max_fee_percent": "10"`), `(preset)`},
		{"huge fee cap", edit(`"decimals": 6`, `"decimals": 6, "max_fee_percent": 18446744073709551616`), `(preset)`},
		{"bump after too long", edit(`"decimals": 6`, `"decimals": 6, "bump_after": 1001`), "bump_after: 1001: at most 1000"},
		{"negative bump after", edit(`"decimals": 6`, `"decimals": 6, "bump_after": -1`), `(preset)`},
		{"bump after as text", edit(`"decimals": 6`, `"decimals": 6, "bump_after": "3 blocks"`), `(preset)`},
		{"token per native too high", edit(`"decimals": 6`, `"decimals": 6, "token_per_native": 1125899906842625`), "token_per_native: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeNetworks(strings.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if !errors.Is(err, ErrPreset) {
				t.Errorf("%v is not ErrPreset", err)
			}
		})
	}
}

func TestNetworksRoundTrip(t *testing.T) {
	dir := t.TempDir()
	got, err := Choose(dir, "", "")
	if err == nil || !strings.Contains(err.Error(), `network "local": escrow: not set`) {
		t.Fatalf("the built-in local shape has no contracts, so choosing it must say so; got %v, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, NetworksFile), []byte(`{"n": `+goodPreset+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := Choose(dir, "n", "https://rpc.example/v3/SECRETKEY")
	if err != nil {
		t.Fatal(err)
	}
	if n.ChainID != 1337 || n.RPC[0] != "https://rpc.example/v3/SECRETKEY" || n.Escrow != common.HexToAddress("0xe5") ||
		n.ConfirmationsOrDefault() != 2 || n.TxURL(common.Hash{1}) != "https://scan.example/tx/0x01"+strings.Repeat("0", 62) {
		t.Fatalf("decoded %+v", n)
	}
	if r := redactURL(n.RPC[0]); strings.Contains(r, "SECRET") {
		t.Errorf("redacted URL %q keeps the API key", r)
	}
	if _, err := Choose(dir, "mainnet", ""); err == nil || !strings.Contains(err.Error(), `no network "mainnet"`) || !strings.Contains(err.Error(), "known: n") {
		t.Fatalf("unknown network: %v", err)
	}
	local := Local()
	local.Escrow, local.Token = common.HexToAddress("0x1"), common.HexToAddress("0x2")
	if local.MaxFeePercent != DefaultMaxFeePercent || local.BumpAfter != DefaultBumpAfter || local.Validate() != nil {
		t.Fatalf("the built-in local shape with contracts: %+v, %v; want it valid, the default fee cap and bump interval written out", local, local.Validate())
	}
	local.SettleThreshold, local.TokenPerNative, local.MaxFeePercent, local.BumpAfter = 1, 2_500_000_000, 25, 7
	if err := SaveNetwork(dir, local); err != nil {
		t.Fatal(err)
	}
	all, err := LoadNetworks(dir)
	if err != nil || len(all) != 2 || all["local"].Token != local.Token || all["n"].Explorer == "" {
		t.Fatalf("after saving local: %v, %+v", err, all)
	}
	if l := all["local"]; l.SettleThreshold != 1 || l.TokenPerNative != 2_500_000_000 || l.MaxFeePercent != 25 || l.BumpAfter != 7 {
		t.Fatalf("the settlement policy did not survive saving: %+v", l)
	}
	if p := all["local"].Policy(); p.Threshold != 1 || p.MaxFeePercent != 25 || p.BumpAfter != 7 || p.maxFeePercent() != 25 || p.bumpAfter() != 7 {
		t.Fatalf("the preset's policy: %+v", p)
	}
	if p := all["n"].Policy(); p.maxFeePercent() != DefaultMaxFeePercent || p.bumpAfter() != DefaultBumpAfter {
		t.Fatalf("a preset without the fields: %+v; want the defaults", p)
	}
	if st, _ := os.Stat(filepath.Join(dir, NetworksFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("networks file mode %v, want 0600", st.Mode().Perm())
	}
}

// TestCheckAgainstChain checks presets against the simulated chain: the
// right one passes; a wrong chain ID, an address without code, a
// contract that is not an escrow and a token that is not an ERC-20 are
// each an error naming the field.
func TestCheckAgainstChain(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	good := Network{Name: "sim", ChainID: 1337, RPC: []string{"http://sim"}, Escrow: e.escrow, Token: e.token,
		Symbol: "tUSD", Decimals: 6}
	if err := Check(ctx, e.client, good); err != nil {
		t.Fatalf("the right preset: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Network)
		want string
	}{
		{"chain id", func(n *Network) { n.ChainID = 10 }, `network "sim": chain_id: the node's chain is 1337, the preset says 10`},
		{"escrow without code", func(n *Network) { n.Escrow = common.HexToAddress("0xdead") }, `escrow: no contract at 0x000000000000000000000000000000000000dEaD`},
		{"token without code", func(n *Network) { n.Token = common.HexToAddress("0xbeef") }, `token: no contract at`},
		{"escrow is the token", func(n *Network) { n.Escrow, n.Token = e.token, e.escrow }, `escrow: the contract at ` + e.token.Hex() + ` is not a Spare escrow`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := good
			tc.edit(&n)
			err := Check(ctx, e.client, n)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrPreset) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestDialKeepsAPIKeysOut: an unreachable RPC URL whose path holds an API
// key is named in the error by scheme and host only.
func TestDialKeepsAPIKeysOut(t *testing.T) {
	n := Local()
	n.Escrow, n.Token = common.HexToAddress("0x1"), common.HexToAddress("0x2")
	n.RPC = []string{"http://127.0.0.1:1/v3/SECRETKEY"}
	_, err := Dial(context.Background(), n)
	if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "http://127.0.0.1:1/…") {
		t.Fatalf("dialling an unreachable node: %v", err)
	}
	p := &Probe{Net: n}
	if err := p.Reachable(context.Background()); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("doctor's probe: %v", err)
	}
}

// TestPresetSetsFeePolicy: a preset's max_fee_percent and bump_after are
// what the backend Open gives it settles under: the fee cap scales with
// the percent, and a preset without them gets the defaults.
func TestPresetSetsFeePolicy(t *testing.T) {
	e := newChain(t)
	ctx := context.Background()
	n := Network{Name: "sim", ChainID: 1337, RPC: []string{"http://sim"}, Escrow: e.escrow, Token: e.token,
		Symbol: "tUSD", Decimals: 6, TokenPerNative: 2_000_000_000, MaxFeePercent: 30, BumpAfter: 9}
	tuned, err := Open(ctx, e.client, n, e.payeeKey, e.payeeL, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.MaxFeePercent, n.BumpAfter = 0, 0
	plain, err := Open(ctx, e.client, n, e.payeeKey, e.payeeL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tuned.Policy.bumpAfter() != 9 || plain.Policy.bumpAfter() != DefaultBumpAfter {
		t.Fatalf("bump after %d and %d blocks; want the preset's 9 and the default %d", tuned.Policy.bumpAfter(), plain.Policy.bumpAfter(), DefaultBumpAfter)
	}
	const amount, gas = wallet.Amount(5_000_000), 100_000
	market := big.NewInt(1e9)
	got, basis := tuned.feeLimit(amount, gas, market)
	base, _ := plain.feeLimit(amount, gas, market)
	// 30% of 5 tokens at 2000 tokens per coin over 100 000 gas:
	// 1.5e6 × 1e18 / 2e9 / 1e5 = 7 500 000 000 wei per gas.
	if got.Cmp(big.NewInt(7_500_000_000)) != 0 || !strings.Contains(basis, "30%") {
		t.Fatalf("fee cap %s wei per gas (%s); want 7500000000 at the preset's 30%%", got, basis)
	}
	if want := new(big.Int).Mul(base, big.NewInt(3)); got.Cmp(want) != 0 {
		t.Fatalf("fee cap %s at 30%%, %s at the default %d%%; want three times", got, base, DefaultMaxFeePercent)
	}
}
