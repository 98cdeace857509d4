// Package wallet keeps Spare's money: the wallet key (a geth keystore v3
// file), the peer binding between the libp2p identity and the payee
// address, the EIP-712 messages of a metered job (Agreement, UsageReceipt,
// Voucher) and the rules that accept or refuse them, the credit limit a
// provider applies, the SQLite ledger, and the Settlement interface with
// its embedded ledger backend (the EVM backend is package wallet/evm).
//
// Layout in a data directory:
//
//	DATA/spare.db              the ledger (WAL, synchronous=FULL)
//	DATA/wallet/keystore/UTC-- the wallet key, keystore v3 (0600; dir 0700)
//	DATA/wallet/passphrase     generated passphrase for daemons (0600)
package wallet

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"
)

// Options open a wallet. The zero value (plus DataDir) works: a daemon's
// generated passphrase, standard scrypt, the default logger.
type Options struct {
	DataDir    string
	Passphrase string          // empty: the generated one in DATA/wallet/passphrase
	Keystore   KeystoreOptions // zero: standard scrypt
	ChainID    uint64          // domain of the embedded ledger backend; 0 is fine for private pools
	Log        *slog.Logger    // nil: slog.Default()
}

// Wallet is a data directory's keystore and ledger together.
type Wallet struct {
	Dir    string
	Keys   *Keystore
	Ledger *Ledger
	opts   Options
	key    *Key
}

// Open opens the keystore and the ledger of opts.DataDir.
func Open(opts Options) (*Wallet, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	dir := filepath.Join(opts.DataDir, "wallet")
	ks, err := OpenKeystore(dir, opts.Keystore)
	if err != nil {
		return nil, err
	}
	l, err := OpenLedger(opts.DataDir, opts.Log)
	if err != nil {
		return nil, err
	}
	return &Wallet{Dir: dir, Keys: ks, Ledger: l, opts: opts}, nil
}

// Close closes the ledger.
func (w *Wallet) Close() error { return w.Ledger.Close() }

// Passphrase returns the configured passphrase or the daemon's generated one.
func (w *Wallet) Passphrase() (string, error) {
	if w.opts.Passphrase != "" {
		return w.opts.Passphrase, nil
	}
	return DaemonPassphrase(w.Dir)
}

// Key unlocks the wallet key, creating it on first use.
func (w *Wallet) Key() (*Key, error) {
	if w.key != nil {
		return w.key, nil
	}
	pw, err := w.Passphrase()
	if err != nil {
		return nil, err
	}
	k, err := w.Keys.Unlock(pw)
	if err != nil {
		return nil, fmt.Errorf("unlocking wallet: %w", err)
	}
	w.opts.Log.Debug("wallet unlocked", "address", k.Address().Hex())
	w.key = k
	return k, nil
}

// Address is the wallet's address, creating the key on first use. The
// ledger records it as this node's account.
func (w *Wallet) Address() (common.Address, error) {
	a, err := w.Keys.Address()
	if err != nil {
		k, err := w.Key()
		if err != nil {
			return common.Address{}, err
		}
		a = k.Address()
	}
	if err := w.Ledger.AddAccount(context.Background(), a, "wallet"); err != nil {
		return common.Address{}, fmt.Errorf("recording account: %w", err)
	}
	return a, nil
}

// Balance computes the wallet's figures.
func (w *Wallet) Balance(ctx context.Context) (Balance, error) {
	a, err := w.Address()
	if err != nil {
		return Balance{}, err
	}
	return w.Ledger.Balance(ctx, a)
}

// LedgerSettlement returns the embedded backend acting as this wallet.
func (w *Wallet) LedgerSettlement() (*LedgerSettlement, error) {
	a, err := w.Address()
	if err != nil {
		return nil, err
	}
	return &LedgerSettlement{Ledger: w.Ledger, Domain: Domain{ChainID: w.opts.ChainID}, Me: a}, nil
}
