package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/settings"
	"github.com/sparegpu/spare/wallet/evm"
)

// writeNetworks writes DATA/networks.json.
func writeNetworks(t *testing.T, dir, file string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, evm.NetworksFile), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
}

// testPeerKey makes an Ed25519 identity and its peer ID.
func testPeerKey(t *testing.T) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, id
}

// TestNetworkFlags: --network, --pool, --rpc and the network chosen in
// Settings, parsed as `spare node` parses them, then resolved as it does
// before its host starts: which pool and allow-list the host gets, its
// network's name, whether a chain is dialled, and the conflicts, each an
// error naming both flags.
func TestNetworkFlags(t *testing.T) {
	_, a := testPeerKey(t)
	chain := `"chain_id": 1337, "rpc": ["http://127.0.0.1:8545"], "escrow": "0x00000000000000000000000000000000000000e5",
		"token": "0x00000000000000000000000000000000000000a0", "symbol": "tUSD", "decimals": 6, "confirmations": 1`
	file := `{"studio": {"pool": "studio-rdv", "allow_peers": ["` + a.String() + `"]}, "shop": {` + chain + `, "pool": "shop"}, "mynet": {` + chain + `}}`
	for _, tc := range []struct {
		name    string
		args    []string
		saved   string // the network chosen in Settings
		pool    string
		allow   bool
		netName string
		onChain bool
		usage   bool     // the error is a usage error (exit 2)
		want    []string // in the error
	}{
		{name: "neither: the public network on the ledger"},
		{name: "--pool alone", args: []string{"--pool", "lab"}, pool: "lab"},
		{name: "a pool network", args: []string{"--network", "studio"}, pool: "studio-rdv", allow: true, netName: "studio"},
		{name: "a pool network and its own pool", args: []string{"--network", "studio", "--pool", "studio-rdv"}, pool: "studio-rdv", allow: true, netName: "studio"},
		{name: "a pool network and another pool", args: []string{"--network", "studio", "--pool", "lab"}, usage: true,
			want: []string{"--pool lab", "--network studio", `"studio-rdv"`}},
		{name: "a pool network and an rpc", args: []string{"--network", "studio", "--rpc", "http://127.0.0.1:8545"}, usage: true,
			want: []string{"--rpc http://127.0.0.1:8545", "--network studio", "embedded ledger"}},
		{name: "the ledger in a pool", args: []string{"--network", "ledger", "--pool", "lab"}, pool: "lab"},
		{name: "the ledger and an rpc", args: []string{"--network", "ledger", "--rpc", "http://127.0.0.1:8545"}, usage: true,
			want: []string{"--rpc", "--network ledger"}},
		{name: "a chain in a pool of its own", args: []string{"--network", "shop"}, pool: "shop", netName: "shop", onChain: true},
		{name: "a chain on the public network", args: []string{"--network", "mynet"}, netName: "mynet", onChain: true},
		{name: "a chain put in a pool by --pool", args: []string{"--network", "local", "--pool", "lab"}, pool: "lab", netName: "local", onChain: true},
		{name: "an unknown network", args: []string{"--network", "nope"}, want: []string{"--network", `no network "nope"`, "known: ledger, local, mynet, shop, studio"}},
		{name: "the pool network chosen in Settings", saved: "studio", pool: "studio-rdv", allow: true, netName: "studio"},
		{name: "Settings' pool network and another pool", saved: "studio", args: []string{"--pool", "lab"}, usage: true,
			want: []string{"--pool lab", "the network chosen in Settings (studio)"}},
		{name: "a flag over Settings", saved: "studio", args: []string{"--network", "mynet"}, netName: "mynet", onChain: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeNetworks(t, dir, file)
			if tc.saved != "" {
				s := settings.FromGovernor(governor.Settings{})
				s.Network = tc.saved
				if err := settings.Save(dir, s); err != nil {
					t.Fatal(err)
				}
			}
			var nf netFlags
			var cf chainFlags
			cmd := &cobra.Command{Use: "node", RunE: func(*cobra.Command, []string) error { return nil }}
			nf.register(cmd, true)
			cf.register(cmd.Flags())
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			err := cf.resolve(dir)
			if err == nil {
				err = nf.join(dir, cf.network, cf.origin())
			}
			if len(tc.want) > 0 || tc.usage {
				var ue usageError
				if err == nil || errors.As(err, &ue) != tc.usage {
					t.Fatalf("got %v (usage error: %v), want an error (usage error: %v)", err, errors.As(err, &ue), tc.usage)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if nf.pool != tc.pool || (len(nf.allow) == 1 && nf.allow[0] == a) != tc.allow || nf.name != tc.netName || cf.onChain() != tc.onChain {
				t.Errorf("pool %q, allow %v, name %q, on chain %v; want %q, %v, %q, %v", nf.pool, nf.allow, nf.name, cf.onChain(), tc.pool, tc.allow, tc.netName, tc.onChain)
			}
		})
	}
}
