package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

var lightKeystore = KeystoreOptions{ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}

func TestKeystoreCreatedOnFirstUse(t *testing.T) {
	dir := t.TempDir()
	ks, err := OpenKeystore(dir, lightKeystore)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Address(); !errors.Is(err, ErrNoKey) {
		t.Fatalf("empty keystore: got %v, want ErrNoKey", err)
	}
	k, err := ks.Unlock("pw")
	if err != nil {
		t.Fatal(err)
	}
	addr, err := ks.Address()
	if err != nil || addr != k.Address() {
		t.Fatalf("address %s, %v; want %s", addr.Hex(), err, k.Address().Hex())
	}
	again, err := ks.Unlock("pw")
	if err != nil || again.Address() != k.Address() {
		t.Fatalf("second unlock: %v", err)
	}
	if _, err := ks.Unlock("wrong"); !errors.Is(err, ErrBadPassphase) {
		t.Fatalf("wrong passphrase: got %v", err)
	}
	fi, _ := os.Stat(ks.Dir())
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("keystore dir mode %v, want 0700", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(ks.Dir())
	if len(ents) != 1 {
		t.Fatalf("%d files in keystore, want 1", len(ents))
	}
	fi, _ = os.Stat(filepath.Join(ks.Dir(), ents[0].Name()))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if strings.Contains(k.String(), "priv") || !strings.Contains(k.String(), k.Address().Hex()) {
		t.Fatalf("Key.String() = %q", k.String())
	}
}

// TestKeystoreImportsWalletVectors imports the Web3 Secret Storage test
// vectors (scrypt and PBKDF2) that every Ethereum wallet reads.
func TestKeystoreImportsWalletVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/v3_test_vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors map[string]struct {
		JSON     json.RawMessage `json:"json"`
		Password string          `json:"password"`
		Priv     string          `json:"priv"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"wikipage_test_vector_scrypt", "wikipage_test_vector_pbkdf2"} {
		t.Run(name, func(t *testing.T) {
			v := vectors[name]
			priv, _ := crypto.HexToECDSA(v.Priv)
			want := crypto.PubkeyToAddress(priv.PublicKey)
			ks, _ := OpenKeystore(t.TempDir(), lightKeystore)
			got, err := ks.Import(v.JSON, v.Password, "local")
			if err != nil || got != want {
				t.Fatalf("imported %s, %v; want %s", got.Hex(), err, want.Hex())
			}
			k, err := ks.Unlock("local")
			if err != nil || k.Address() != want {
				t.Fatalf("unlock after import: %v", err)
			}
			if _, err := ks.Import(v.JSON, v.Password, "local"); !errors.Is(err, ErrKeyExists) {
				t.Fatalf("second import: got %v, want ErrKeyExists", err)
			}
		})
	}
}

func TestKeystoreExportImportRoundTrip(t *testing.T) {
	a, _ := OpenKeystore(t.TempDir(), lightKeystore)
	k, err := a.Unlock("one")
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.Export("one", "transfer")
	if err != nil {
		t.Fatal(err)
	}
	// What we export, geth's own decoder reads.
	gk, err := keystore.DecryptKey(out, "transfer")
	if err != nil || gk.Address != k.Address() {
		t.Fatalf("geth decrypt of export: %v", err)
	}
	b, _ := OpenKeystore(t.TempDir(), lightKeystore)
	addr, err := b.Import(out, "transfer", "two")
	if err != nil || addr != k.Address() {
		t.Fatalf("import: %s %v", addr.Hex(), err)
	}
	if _, err := a.Export("bad", ""); !errors.Is(err, ErrBadPassphase) {
		t.Fatalf("export with wrong passphrase: %v", err)
	}
}

func TestCheckKDFRefusesAbsurdParams(t *testing.T) {
	scrypt := func(n, r, p, dk int) string {
		b, _ := json.Marshal(map[string]any{"version": 3, "crypto": map[string]any{"kdf": "scrypt",
			"kdfparams": map[string]any{"n": n, "r": r, "p": p, "dklen": dk, "salt": "00"}}})
		return string(b)
	}
	cases := []struct {
		name, json, mention string
	}{
		{"scrypt n above 2^20", scrypt(1<<21, 8, 1, 32), "kdfparams.n"},
		{"scrypt n not power of two", scrypt(1000, 8, 1, 32), "power of two"},
		{"scrypt r huge", scrypt(1<<10, 1<<20, 1, 32), "kdfparams.r"},
		{"scrypt r*p huge", scrypt(1<<10, 16, 16, 32), "kdfparams.r*p"},
		{"scrypt p huge", scrypt(1<<10, 1, 1<<30, 32), "kdfparams.p"},
		{"dklen wrong", scrypt(1<<10, 8, 1, 4096), "kdfparams.dklen"},
		{"pbkdf2 c huge", `{"version":3,"crypto":{"kdf":"pbkdf2","kdfparams":{"c":4000000000,"dklen":32,"prf":"hmac-sha256"}}}`, "kdfparams.c"},
		{"unknown kdf", `{"version":3,"crypto":{"kdf":"argon2","kdfparams":{"dklen":32}}}`, "argon2"},
		{"negative n", scrypt(-1, 8, 1, 32), "kdfparams.n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckKDF([]byte(c.json))
			if !errors.Is(err, ErrKDFParams) || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("got %v; want ErrKDFParams mentioning %q", err, c.mention)
			}
		})
	}
	t.Run("standard params accepted", func(t *testing.T) {
		if err := CheckKDF([]byte(scrypt(keystore.StandardScryptN, 8, 1, 32))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("import refuses before decrypting", func(t *testing.T) {
		ks, _ := OpenKeystore(t.TempDir(), lightKeystore)
		if _, err := ks.Import([]byte(scrypt(1<<30, 8, 1, 32)), "x", "y"); !errors.Is(err, ErrKDFParams) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestDaemonPassphrase(t *testing.T) {
	dir := t.TempDir()
	pw, err := DaemonPassphrase(dir)
	if err != nil || len(pw) != 64 {
		t.Fatalf("passphrase %d chars, %v", len(pw), err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "passphrase"))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	again, _ := DaemonPassphrase(dir)
	if again != pw {
		t.Fatal("passphrase changed between calls")
	}
	os.Chmod(filepath.Join(dir, "passphrase"), 0o644)
	if _, err := DaemonPassphrase(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable passphrase file accepted: %v", err)
	}
}

func TestKeyNeverLogged(t *testing.T) {
	k, _ := GenerateKey()
	var buf bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&buf, nil))
	lg.Info("unlocked", "key", k)
	secret := hex.EncodeToString(crypto.FromECDSA(k.PrivateKey()))
	out := buf.String() + fmt.Sprint(k) + fmt.Sprintf("%v %+v", k, k)
	if strings.Contains(out, secret) || !strings.Contains(buf.String(), k.Address().Hex()) {
		t.Fatalf("log output %q leaks the key or lacks the address", buf.String())
	}
}

// TestFirstUseAtOnce: processes starting on a new data dir at the same
// time (each opening the files on its own, as separate processes do) get
// one passphrase and one key between them.
func TestFirstUseAtOnce(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	var wg sync.WaitGroup
	pass := make([]string, n)
	addrs := make([]common.Address, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if pass[i], errs[i] = DaemonPassphrase(dir); errs[i] != nil {
				return
			}
			ks, err := OpenKeystore(dir, lightKeystore)
			if err != nil {
				errs[i] = err
				return
			}
			k, err := ks.Unlock(pass[i])
			if err != nil {
				errs[i] = err
				return
			}
			addrs[i] = k.Address()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("process %d: %v", i, errs[i])
		}
		if pass[i] != pass[0] || addrs[i] != addrs[0] {
			t.Fatalf("process %d got passphrase %.8s… and key %s; process 0 %.8s… and %s", i, pass[i], addrs[i], pass[0], addrs[0])
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, "keystore"))
	if err != nil {
		t.Fatal(err)
	}
	keys := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "UTC--") {
			keys++
		}
	}
	if keys != 1 {
		t.Fatalf("%d key files after a simultaneous first use, want 1", keys)
	}
}
