package evm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
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
	local.SettleThreshold, local.TokenPerNative = 1, 2_500_000_000
	if err := SaveNetwork(dir, local); err != nil {
		t.Fatal(err)
	}
	all, err := LoadNetworks(dir)
	if err != nil || len(all) != 2 || all["local"].Token != local.Token || all["n"].Explorer == "" {
		t.Fatalf("after saving local: %v, %+v", err, all)
	}
	if l := all["local"]; l.SettleThreshold != 1 || l.TokenPerNative != 2_500_000_000 {
		t.Fatalf("the settlement policy did not survive saving: %+v", l)
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
