package networks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/wallet/evm"
)

const chainFields = `"chain_id": 1337, "rpc": ["http://127.0.0.1:8545"],
 "escrow": "0x00000000000000000000000000000000000000e5", "token": "0x00000000000000000000000000000000000000a0",
 "symbol": "tUSD", "decimals": 6, "confirmations": 2`

func newPeer(t *testing.T) peer.ID {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDecode: a file from before pools decodes as it did (chain presets
// on the public network); a pool settles in the ledger, or on a chain
// when it has one; the allow-list is read as peer IDs.
func TestDecode(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	all, err := Decode(strings.NewReader(`{
		"mynet": {` + chainFields + `},
		"studio": {"pool": "studio-rdv", "allow_peers": ["` + a.String() + `", "` + b.String() + `"]},
		"shop": {` + chainFields + `, "pool": "shop"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := all["mynet"]; n.Chain == nil || n.Chain.ChainID != 1337 || n.Pool != "" || n.Settles() != "mynet" {
		t.Errorf("mynet: %+v", n)
	}
	if n := all["studio"]; n.Chain != nil || n.Pool != "studio-rdv" || len(n.AllowPeers) != 2 || n.AllowPeers[0] != a || n.AllowPeers[1] != b || n.Settles() != Ledger {
		t.Errorf("studio: %+v", n)
	}
	if n := all["shop"]; n.Chain == nil || n.Pool != "shop" || n.AllowPeers != nil {
		t.Errorf("shop: %+v", n)
	}
	// The chain side sees only the chain presets, as before.
	chains, err := evm.DecodeNetworks(strings.NewReader(`{"studio": {"pool": "studio-rdv"}, "shop": {` + chainFields + `, "pool": "shop"}}`))
	if err != nil || len(chains) != 1 || chains["shop"].ChainID != 1337 {
		t.Errorf("evm.DecodeNetworks: %v, %v", chains, err)
	}
}

// TestDecodeHostile feeds the file what a careless or hostile hand would
// write; each error names the network and the field, and the whole file
// is refused.
func TestDecodeHostile(t *testing.T) {
	a := newPeer(t).String()
	many := strings.TrimSuffix(strings.Repeat(`"`+a+`",`, MaxAllowPeers+1), ",")
	for _, tc := range []struct{ name, file, want string }{
		{"empty entry", `{"studio": {}}`, `"studio": (preset): empty`},
		{"null entry", `{"studio": null}`, `"studio": (preset)`},
		{"ledger without pool", `{"studio": {"allow_peers": ["` + a + `"]}}`, `"studio": allow_peers: only a private pool`},
		{"pool not a string", `{"studio": {"pool": 7}}`, `"studio": pool: want a string`},
		{"pool null", `{"studio": {"pool": null}}`, `"studio": pool: want a string`},
		{"pool empty", `{"studio": {"pool": ""}}`, `"studio": pool: empty pool name`},
		{"pool upper case", `{"studio": {"pool": "Studio"}}`, `"studio": pool: pool name "Studio"`},
		{"pool with slash", `{"studio": {"pool": "a/../b"}}`, `"studio": pool: `},
		{"pool too long", `{"studio": {"pool": "` + strings.Repeat("a", 65) + `"}}`, `"studio": pool: pool name of 65 bytes`},
		{"unknown field", `{"studio": {"pool": "s", "allow": ["` + a + `"]}}`, `"studio": (preset)`},
		{"unknown field beside a chain", `{"shop": {` + chainFields + `, "pools": "s"}}`, `"shop": (preset)`},
		{"bad chain beside a pool", `{"shop": {"chain_id": 0, "rpc": [], "pool": "s"}}`, `"shop": escrow`},
		{"allow not a list", `{"studio": {"pool": "s", "allow_peers": "` + a + `"}}`, `"studio": allow_peers: want a list`},
		{"allow null", `{"studio": {"pool": "s", "allow_peers": null}}`, `"studio": allow_peers: want a list`},
		{"allow empty", `{"studio": {"pool": "s", "allow_peers": []}}`, `"studio": allow_peers: 0 peers`},
		{"allow too many", `{"studio": {"pool": "s", "allow_peers": [` + many + `]}}`, `allow_peers: 257 peers`},
		{"allow not a peer", `{"studio": {"pool": "s", "allow_peers": ["` + a + `", "0xdeadbeef"]}}`, `"studio": allow_peers[1]: "0xdeadbeef" is not a peer ID`},
		{"allow twice", `{"studio": {"pool": "s", "allow_peers": ["` + a + `", "` + a + `"]}}`, `"studio": allow_peers[1]: ` + a + ` is listed twice`},
		{"allow a huge string", `{"studio": {"pool": "s", "allow_peers": ["` + strings.Repeat("Q", 5000) + `"]}}`, `is not a peer ID`},
		{"the built-in ledger", `{"ledger": {"pool": "s"}}`, `"ledger": name: "ledger" is the built-in`},
		{"bad name", `{"Studio": {"pool": "s"}}`, `"Studio": name:`},
		{"too big", `{"studio": {"pool": "` + strings.Repeat("a", evm.MaxNetworksFile) + `"}}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if !errors.Is(err, evm.ErrPreset) {
				t.Errorf("%v is not evm.ErrPreset", err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("an error of %d bytes: %.100s…", len(err.Error()), err)
			}
		})
	}
}

// TestResolve: the built-in networks, the file's, and an unknown name
// listing those known; `spare chain deploy` (evm.SaveNetwork) keeps the
// peer-to-peer part of the entry it writes and the pools beside it.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	if n, err := Resolve(dir, Ledger); err != nil || n.Chain != nil || n.Pool != "" {
		t.Errorf("ledger: %+v, %v", n, err)
	}
	if n, err := Resolve(dir, Local); err != nil || n.Chain == nil || n.Chain.ChainID != evm.LocalChainID || n.Pool != "" {
		t.Errorf("local: %+v, %v", n, err)
	}
	a := newPeer(t)
	file := `{"studio": {"pool": "studio", "allow_peers": ["` + a.String() + `"]}, "local": {"pool": "lab"}}`
	if err := os.WriteFile(filepath.Join(dir, evm.NetworksFile), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(dir, "nope"); err == nil || !strings.Contains(err.Error(), `no network "nope"`) || !strings.Contains(err.Error(), "known: ledger, local, studio") {
		t.Errorf("unknown: %v", err)
	}
	l := evm.Local()
	l.Escrow[19], l.Token[19] = 0xe5, 0xa0
	if err := evm.SaveNetwork(dir, l); err != nil {
		t.Fatal(err)
	}
	n, err := Resolve(dir, Local)
	if err != nil || n.Chain == nil || n.Chain.Escrow != l.Escrow || n.Pool != "lab" {
		t.Errorf("local after chain deploy: %+v, %v", n, err)
	}
	if n, err := Resolve(dir, "studio"); err != nil || n.Pool != "studio" || len(n.AllowPeers) != 1 || n.AllowPeers[0] != a {
		t.Errorf("studio after chain deploy: %+v, %v", n, err)
	}
	st, err := os.Stat(filepath.Join(dir, evm.NetworksFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("networks file: %v, %v", st.Mode(), err)
	}
}
