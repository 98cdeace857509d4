package p2p

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// IdentityFile is the identity key's path below the data directory.
const IdentityFile = "p2p/identity.key"

// maxKeyFile bounds what is read from the identity file.
const maxKeyFile = 4096

// loadIdentity reads the host's ed25519 key from dataDir, making it on first
// use. Empty dataDir: a fresh key kept in memory only.
func loadIdentity(dataDir string) (crypto.PrivKey, error) {
	if dataDir == "" {
		k, _, err := crypto.GenerateEd25519Key(nil)
		return k, err
	}
	path := filepath.Join(dataDir, IdentityFile)
	k, err := readIdentity(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createIdentity(path)
	}
	return k, err
}

func readIdentity(path string) (crypto.PrivKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("identity key %s: %w", path, err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %o, so other users can read it and act as this node; "+
			"run `chmod 600 %s` (or delete it to make a new identity)", ErrKeyPermissions, path, st.Mode().Perm(), path)
	}
	if st.Size() > maxKeyFile {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrBadKey, path, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity key %s: %w", path, err)
	}
	k, err := crypto.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadKey, path, err)
	}
	if k.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: %s holds a %s key, want Ed25519", ErrBadKey, path, k.Type())
	}
	return k, nil
}

func createIdentity(path string) (crypto.PrivKey, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("making identity directory: %w", err)
	}
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, err
	}
	b, err := crypto.MarshalPrivateKey(k)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".identity-*")
	if err != nil {
		return nil, fmt.Errorf("writing identity key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing identity key: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing identity key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing identity key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing identity key: %w", err)
	}
	// Link, not rename: never replace a key another process made meanwhile.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readIdentity(path)
		}
		return nil, fmt.Errorf("writing identity key: %w", err)
	}
	return k, nil
}
