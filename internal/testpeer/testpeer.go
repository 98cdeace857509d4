// Package testpeer opens the real parts a test peer is made of: a wallet
// with a light keystore and a libp2p host on loopback, each closed when
// the test ends. Tests only.
package testpeer

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"

	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet"
)

// LightKeys is a keystore that unlocks in milliseconds (scrypt's light
// parameters): fine for tests, never for a real wallet.
var LightKeys = wallet.KeystoreOptions{ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}

// Passphrase unlocks Wallet's key.
const Passphrase = "test"

// Wallet opens (creating on first use) the wallet in dir.
func Wallet(t testing.TB, dir string) *wallet.Wallet {
	t.Helper()
	w, err := wallet.Open(wallet.Options{DataDir: dir, Passphrase: Passphrase, Keystore: LightKeys, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// Host starts a libp2p host on loopback, without mDNS, with its identity
// in dir.
func Host(t testing.TB, dir string) *p2p.Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := p2p.New(ctx, p2p.Config{DataDir: dir, LoopbackOnly: true, NoMDNS: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
