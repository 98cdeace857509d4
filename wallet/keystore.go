package wallet

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"
	"github.com/sparegpu/spare/internal/atomicfile"
	"github.com/sparegpu/spare/internal/filelock"
)

// Limits on keystore KDF parameters. A keystore file is untrusted input
// on import: scrypt with a huge N or r·p, or PBKDF2 with a huge count,
// would pin the CPU or exhaust memory before the passphrase is even
// checked. The limits are well above what geth, MetaMask and others write
// (scrypt N = 2^18, r = 8, p = 1; PBKDF2 c = 262144).
const (
	MaxScryptN    = 1 << 20
	MaxScryptR    = 32
	MaxScryptP    = 16
	MaxScryptRP   = 64 // r·p: memory and time scale with it
	MaxPBKDF2C    = 10_000_000
	keystoreDKLen = 32
)

// Keystore errors.
var (
	ErrKDFParams    = errors.New("keystore KDF parameters refused")
	ErrNoKey        = errors.New("no wallet key yet")
	ErrKeyExists    = errors.New("a wallet key already exists")
	ErrBadKeystore  = errors.New("not a keystore v3 file")
	ErrBadPassphase = errors.New("wrong passphrase")
)

// KeystoreOptions tune key encryption. The zero value uses geth's
// standard scrypt parameters (N = 2^18, p = 1: about a second and 256 MiB).
type KeystoreOptions struct {
	ScryptN int // 0: keystore.StandardScryptN
	ScryptP int // 0: keystore.StandardScryptP
}

// Keystore holds the one wallet key of a data directory in a geth
// keystore v3 file under DIR/keystore (directory 0700, file 0600).
type Keystore struct {
	dir  string
	opts KeystoreOptions
}

// OpenKeystore opens (creating when missing) walletDir/keystore.
func OpenKeystore(walletDir string, opts KeystoreOptions) (*Keystore, error) {
	if opts.ScryptN == 0 {
		opts.ScryptN = keystore.StandardScryptN
	}
	if opts.ScryptP == 0 {
		opts.ScryptP = keystore.StandardScryptP
	}
	dir := filepath.Join(walletDir, "keystore")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating keystore directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("securing keystore directory: %w", err)
	}
	return &Keystore{dir: dir, opts: opts}, nil
}

// Dir is the keystore directory.
func (ks *Keystore) Dir() string { return ks.dir }

// file returns the path of the key file, or ErrNoKey.
func (ks *Keystore) file() (string, error) {
	ents, err := os.ReadDir(ks.dir)
	if err != nil {
		return "", fmt.Errorf("reading keystore: %w", err)
	}
	var found []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), "UTC--") {
			found = append(found, filepath.Join(ks.dir, e.Name()))
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w in %s (hint: `spare wallet address` creates one, `spare wallet import` brings one)", ErrNoKey, ks.dir)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("keystore %s holds %d keys; keep exactly one", ks.dir, len(found))
	}
}

// Address reads the key's address without decrypting it.
func (ks *Keystore) Address() (common.Address, error) {
	f, err := ks.file()
	if err != nil {
		return common.Address{}, err
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return common.Address{}, fmt.Errorf("reading key file: %w", err)
	}
	var head struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal(b, &head); err != nil || !common.IsHexAddress(head.Address) {
		return common.Address{}, fmt.Errorf("%w: %s has no address", ErrBadKeystore, f)
	}
	return common.HexToAddress(head.Address), nil
}

// Unlock decrypts the key, creating a new one under passphrase when the
// keystore is empty.
func (ks *Keystore) Unlock(passphrase string) (*Key, error) {
	f, err := ks.file()
	if errors.Is(err, ErrNoKey) {
		// Two processes starting on a new data dir (a daemon and a CLI)
		// must not make a key each: the first makes it, the other uses it.
		unlock, lerr := filelock.Lock(filepath.Join(filepath.Dir(ks.dir), ".keystore.lock"))
		if lerr != nil {
			return nil, lerr
		}
		defer unlock()
		if f, err = ks.file(); errors.Is(err, ErrNoKey) {
			k, err := GenerateKey()
			if err != nil {
				return nil, err
			}
			if err := ks.store(k, passphrase); err != nil {
				return nil, err
			}
			return k, nil
		}
	}
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("reading key file: %w", err)
	}
	return decrypt(b, passphrase)
}

func (ks *Keystore) store(k *Key, passphrase string) error {
	id, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("key id: %w", err)
	}
	b, err := keystore.EncryptKey(&keystore.Key{Id: id, Address: k.addr, PrivateKey: k.priv}, passphrase, ks.opts.ScryptN, ks.opts.ScryptP)
	if err != nil {
		return fmt.Errorf("encrypting key: %w", err)
	}
	name := fmt.Sprintf("UTC--%s--%s", time.Now().UTC().Format("2006-01-02T15-04-05.000000000Z"), hex.EncodeToString(k.addr[:]))
	return atomicfile.Write(filepath.Join(ks.dir, name), b, 0o600)
}

// Export returns the key as a keystore v3 JSON file that Ethereum wallets
// import. With newPassphrase empty it is the stored file as is; otherwise
// the key is re-encrypted under newPassphrase.
func (ks *Keystore) Export(passphrase, newPassphrase string) ([]byte, error) {
	f, err := ks.file()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("reading key file: %w", err)
	}
	k, err := decrypt(b, passphrase)
	if err != nil {
		return nil, err
	}
	if newPassphrase == "" {
		return b, nil
	}
	id, _ := uuid.NewRandom()
	return keystore.EncryptKey(&keystore.Key{Id: id, Address: k.addr, PrivateKey: k.priv}, newPassphrase, ks.opts.ScryptN, ks.opts.ScryptP)
}

// Import takes a keystore v3 file from another wallet, decrypts it with
// its passphrase and stores the key under localPassphrase. It refuses
// absurd KDF parameters before any work and refuses to replace a key.
func (ks *Keystore) Import(keyJSON []byte, passphrase, localPassphrase string) (common.Address, error) {
	if _, err := ks.file(); err == nil {
		return common.Address{}, fmt.Errorf("%w (hint: export it first, then remove %s)", ErrKeyExists, ks.dir)
	} else if !errors.Is(err, ErrNoKey) {
		return common.Address{}, err
	}
	k, err := decrypt(keyJSON, passphrase)
	if err != nil {
		return common.Address{}, err
	}
	return k.addr, ks.store(k, localPassphrase)
}

// decrypt checks the KDF parameters, then decrypts.
func decrypt(keyJSON []byte, passphrase string) (*Key, error) {
	if err := CheckKDF(keyJSON); err != nil {
		return nil, err
	}
	k, err := keystore.DecryptKey(keyJSON, passphrase)
	if errors.Is(err, keystore.ErrDecrypt) {
		return nil, fmt.Errorf("%w for the wallet key (hint: --passphrase-file)", ErrBadPassphase)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeystore, err)
	}
	return NewKey(k.PrivateKey), nil
}

// CheckKDF refuses keystore files whose key-derivation parameters would
// cost absurd time or memory, naming the parameter and its limit.
func CheckKDF(keyJSON []byte) error {
	var f struct {
		Version int `json:"version"`
		Crypto  *struct {
			KDF       string         `json:"kdf"`
			KDFParams map[string]any `json:"kdfparams"`
		} `json:"crypto"`
	}
	if err := json.Unmarshal(keyJSON, &f); err != nil {
		return fmt.Errorf("%w: %v", ErrBadKeystore, err)
	}
	if f.Version != 3 || f.Crypto == nil {
		return fmt.Errorf("%w: version %d (want 3 with a crypto section)", ErrBadKeystore, f.Version)
	}
	p := f.Crypto.KDFParams
	num := func(name string) (float64, error) {
		v, ok := p[name].(float64)
		if !ok || v < 1 || v != float64(int64(v)) {
			return 0, fmt.Errorf("%w: kdfparams.%s missing or not a positive integer", ErrKDFParams, name)
		}
		return v, nil
	}
	limit := func(name string, v, max float64) error {
		if v > max {
			return fmt.Errorf("%w: kdfparams.%s = %.0f exceeds the limit %.0f (hint: re-encrypt the key with standard parameters in the wallet that made it)", ErrKDFParams, name, v, max)
		}
		return nil
	}
	dk, err := num("dklen")
	if err != nil {
		return err
	}
	if dk != keystoreDKLen {
		return fmt.Errorf("%w: kdfparams.dklen = %.0f, want %d", ErrKDFParams, dk, keystoreDKLen)
	}
	switch f.Crypto.KDF {
	case "scrypt":
		n, err := num("n")
		if err != nil {
			return err
		}
		r, err := num("r")
		if err != nil {
			return err
		}
		pp, err := num("p")
		if err != nil {
			return err
		}
		if int64(n)&(int64(n)-1) != 0 || n < 2 {
			return fmt.Errorf("%w: kdfparams.n = %.0f is not a power of two", ErrKDFParams, n)
		}
		for _, c := range []struct {
			name   string
			v, max float64
		}{{"n", n, MaxScryptN}, {"r", r, MaxScryptR}, {"p", pp, MaxScryptP}, {"r*p", r * pp, MaxScryptRP}} {
			if err := limit(c.name, c.v, c.max); err != nil {
				return err
			}
		}
	case "pbkdf2":
		c, err := num("c")
		if err != nil {
			return err
		}
		if err := limit("c", c, MaxPBKDF2C); err != nil {
			return err
		}
		if p["prf"] != "hmac-sha256" {
			return fmt.Errorf("%w: kdfparams.prf = %v, want hmac-sha256", ErrKDFParams, p["prf"])
		}
	default:
		return fmt.Errorf("%w: kdf %q (want scrypt or pbkdf2)", ErrKDFParams, f.Crypto.KDF)
	}
	return nil
}

// DaemonPassphrase returns the generated passphrase kept in
// walletDir/passphrase (0600), creating it on first use. It is for a
// daemon that runs without a person to type one: whoever can read that
// file can spend from the wallet.
func DaemonPassphrase(walletDir string) (string, error) {
	path := filepath.Join(walletDir, "passphrase")
	if err := os.MkdirAll(walletDir, 0o700); err != nil {
		return "", fmt.Errorf("creating wallet directory: %w", err)
	}
	// One passphrase for every process that starts on this data dir at once.
	unlock, err := filelock.Lock(filepath.Join(walletDir, ".passphrase.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	b, err := os.ReadFile(path)
	if err == nil {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("passphrase file %s is readable by others: run chmod 600 %s", path, path)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading passphrase file: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generating passphrase: %w", err)
	}
	pw := hex.EncodeToString(raw[:])
	if err := atomicfile.Write(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}
