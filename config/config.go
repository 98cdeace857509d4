// Package config resolves where Spare keeps its files. The zero value of
// every setting works: with no flags, data lives under the XDG data
// directory of the current user.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Default paths and names shared by the daemon and the CLI.
const (
	// DefaultContainerdSocket is where a system containerd listens.
	DefaultContainerdSocket = "/run/containerd/containerd.sock"
	// AppName names directories and the containerd namespace.
	AppName = "spare"
)

// DataDir returns dir when it is set, otherwise $XDG_DATA_HOME/spare
// (~/.local/share/spare). It does not create the directory.
func DataDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, AppName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the data directory: %w (set --data DIR)", err)
	}
	return filepath.Join(home, ".local", "share", AppName), nil
}

// CacheDir returns $XDG_CACHE_HOME/spare (~/.cache/spare).
func CacheDir() (string, error) {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, AppName), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(d, AppName), nil
}

// EnsureDir creates dir with owner-only permissions when it is missing and
// checks that an existing one is a directory that is not world-writable.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating data directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checking data directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	// Windows reports every directory as 0777: access is its ACLs' (the
	// user's profile is the user's own), not the mode bits.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o002 != 0 {
		return errors.New("data directory " + dir + " is world-writable: run chmod o-w " + dir)
	}
	return nil
}
