// Package networks reads the named networks of a data directory. A named
// network says two things at once: how money settles (IOUs in the
// embedded ledger, or an EVM chain preset, package evm) and which
// peer-to-peer network its nodes meet on (the public Spare network, or a
// private pool with its rendezvous name and, where the owner wants it,
// an allow-list of peer IDs). `spare node --network NAME` picks one.
//
// They live in DATA/networks.json (evm.NetworksFile), an object from
// name to entry. An entry holds a chain preset's fields (evm.Network),
// the peer-to-peer fields, or both:
//
//	{"studio": {"pool": "studio-rdv", "allow_peers": ["12D3KooW…", "12D3KooW…"]},
//	 "mynet":  {"chain_id": 1337, "rpc": ["http://127.0.0.1:8545"], "escrow": "0x…", …},
//	 "shop":   {"chain_id": 1337, …, "pool": "shop"}}
//
// An entry without chain fields settles in the embedded ledger and must
// name a pool (the public network on the ledger is the built-in
// "ledger"). Files written before pools existed decode as before: chain
// presets on the public network. Unknown fields are refused; every
// error names the network and the field.
package networks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet/evm"
)

// Built-in networks, known without a file.
const (
	// Ledger is the public Spare network, money in the embedded ledger.
	Ledger = "ledger"
	// Local is evm.LocalNetwork: geth --dev on the public network, unless
	// the file defines it.
	Local = evm.LocalNetwork
)

// MaxAllowPeers bounds a pool's allow-list.
const MaxAllowPeers = 256

// Network is a named network.
type Network struct {
	Name string
	// Chain is where money settles; nil: IOUs in the embedded ledger.
	Chain *evm.Network
	// Pool is the private pool's rendezvous name (p2p.Config.Pool); "":
	// the public Spare network.
	Pool string
	// AllowPeers are the only Spare peers kept in the pool
	// (p2p.Config.AllowPeers); empty: any node of the pool.
	AllowPeers []peer.ID
}

// Settles names where money settles: the chain preset's name, or
// "ledger".
func (n Network) Settles() string {
	if n.Chain == nil {
		return Ledger
	}
	return n.Chain.Name
}

// p2pJSON is an entry's peer-to-peer part as written.
type p2pJSON struct {
	Pool       *string  `json:"pool"`
	AllowPeers []string `json:"allow_peers"`
}

// Decode reads a networks file, validating every entry.
func Decode(r io.Reader) (map[string]Network, error) {
	b, err := io.ReadAll(io.LimitReader(r, evm.MaxNetworksFile+1))
	if err != nil {
		return nil, err
	}
	chains, err := evm.DecodeNetworks(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", evm.NetworksFile, evm.ErrPreset, err)
	}
	out := make(map[string]Network, len(raw))
	for name, fields := range raw {
		n, err := decodeEntry(name, fields)
		if err != nil {
			return nil, err
		}
		if c, ok := chains[name]; ok {
			n.Chain = &c
		} else if n.Pool == "" {
			return nil, bad(name, evm.FieldPool, "not set: an entry without a chain settles in the embedded ledger, so it is a private pool: give the pool's name (the public network on the ledger is the built-in %q)", Ledger)
		}
		out[name] = n
	}
	return out, nil
}

func bad(network, field, format string, a ...any) error {
	return &evm.FieldError{Network: network, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// decodeEntry reads the peer-to-peer part of one entry (evm has checked
// its name and its chain part).
func decodeEntry(name string, fields map[string]json.RawMessage) (Network, error) {
	n := Network{Name: name}
	if name == Ledger {
		return n, bad(name, evm.FieldName, "%q is the built-in public network on the embedded ledger: choose another name", Ledger)
	}
	var p p2pJSON
	if v, ok := fields[evm.FieldPool]; ok {
		if err := json.Unmarshal(v, &p.Pool); err != nil || p.Pool == nil {
			return n, bad(name, evm.FieldPool, "want a string: the private pool's name")
		}
		if err := p2p.CheckPool(*p.Pool); err != nil {
			return n, bad(name, evm.FieldPool, "%s", strings.TrimPrefix(err.Error(), p2p.ErrBadConfig.Error()+": "))
		}
		n.Pool = *p.Pool
	}
	v, ok := fields[evm.FieldAllowPeers]
	if !ok {
		return n, nil
	}
	if err := json.Unmarshal(v, &p.AllowPeers); err != nil || p.AllowPeers == nil {
		return n, bad(name, evm.FieldAllowPeers, "want a list of peer IDs (spare status shows a node's)")
	}
	if n.Pool == "" {
		return n, bad(name, evm.FieldAllowPeers, "only a private pool keeps an allow-list: set %s too", evm.FieldPool)
	}
	if len(p.AllowPeers) == 0 || len(p.AllowPeers) > MaxAllowPeers {
		return n, bad(name, evm.FieldAllowPeers, "%d peers: give 1 to %d (leave the field out to keep any node of the pool)", len(p.AllowPeers), MaxAllowPeers)
	}
	for i, s := range p.AllowPeers {
		id, err := peer.Decode(s)
		if err != nil {
			return n, bad(name, fmt.Sprintf("%s[%d]", evm.FieldAllowPeers, i), "%s is not a peer ID (spare status shows a node's, 12D3KooW…)", clip(s))
		}
		if slices.Contains(n.AllowPeers, id) {
			return n, bad(name, fmt.Sprintf("%s[%d]", evm.FieldAllowPeers, i), "%s is listed twice", id)
		}
		n.AllowPeers = append(n.AllowPeers, id)
	}
	return n, nil
}

// clip quotes s, cut to a length a person reads in an error.
func clip(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q…", s[:64])
	}
	return fmt.Sprintf("%q", s)
}

// Load reads DATA/networks.json; a missing file is no networks.
func Load(dataDir string) (map[string]Network, error) {
	f, err := os.Open(filepath.Join(dataDir, evm.NetworksFile))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Network{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f)
}

// Names are the networks a data directory knows: the file's and the
// built-in ones, sorted.
func Names(all map[string]Network) []string {
	names := []string{Ledger}
	if _, ok := all[Local]; !ok {
		names = append(names, Local)
	}
	for k := range all {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Resolve is the network called name: the file's entry, or a built-in
// one. An unknown name is an error listing those known.
func Resolve(dataDir, name string) (Network, error) {
	all, err := Load(dataDir)
	if err != nil {
		return Network{}, err
	}
	if n, ok := all[name]; ok {
		return n, nil
	}
	switch name {
	case Ledger:
		return Network{Name: Ledger}, nil
	case Local:
		l := evm.Local()
		return Network{Name: Local, Chain: &l}, nil
	}
	return Network{}, fmt.Errorf("%w: no network %q in %s (known: %s)", evm.ErrPreset, name,
		filepath.Join(dataDir, evm.NetworksFile), strings.Join(Names(all), ", "))
}
