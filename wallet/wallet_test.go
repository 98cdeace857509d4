package wallet

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestWalletOpenCreatesKeyAndAccount(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(Options{DataDir: dir, Keystore: lightKeystore})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a, err := w.Address()
	if err != nil {
		t.Fatal(err)
	}
	accts, err := w.Ledger.Accounts(context.Background())
	if err != nil || len(accts) != 1 || accts[0] != a {
		t.Fatalf("accounts %v, %v; want [%s]", accts, err, a.Hex())
	}
	for _, p := range []string{LedgerFile, "wallet/passphrase"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	b, err := w.Balance(context.Background())
	if err != nil || b.Address != a || b.Earned != 0 {
		t.Fatalf("fresh balance %+v, %v", b, err)
	}
	// A user passphrase instead of the generated one: the key no longer opens.
	w2, err := Open(Options{DataDir: dir, Passphrase: "not it", Keystore: lightKeystore})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if _, err := w2.Key(); err == nil {
		t.Fatal("wrong passphrase unlocked the key")
	}
}
