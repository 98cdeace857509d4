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
	"strings"
)

// Default paths and names shared by the daemon and the CLI.
const (
	// DefaultContainerdSocket is where a system containerd listens.
	DefaultContainerdSocket = "/run/containerd/containerd.sock"
	// AppName names directories and the containerd namespace.
	AppName = "spare"
)

// DataDir returns dir when it is set, otherwise the user's data
// directory for Spare: $XDG_DATA_HOME/spare (~/.local/share/spare), or
// on Windows %LOCALAPPDATA%\Spare. It does not create the directory.
func DataDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	return defaultDataDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

// defaultDataDir is DataDir's choice on goos, from the environment and
// the home directory given.
func defaultDataDir(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	if goos == "windows" {
		// Per user and per machine (not roaming: the wallet and the
		// ledger belong to this PC), where Windows apps keep their data.
		base := getenv("LOCALAPPDATA")
		if !windowsAbs(base) {
			p := getenv("USERPROFILE")
			if !windowsAbs(p) {
				return "", fmt.Errorf("finding the data directory: LOCALAPPDATA is %q and USERPROFILE %q, neither a full path (set --data DIR)", base, p)
			}
			base = strings.TrimRight(p, `\/`) + `\AppData\Local`
		}
		return strings.TrimRight(base, `\/`) + `\Spare`, nil
	}
	if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, AppName), nil
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("finding the data directory: %w (set --data DIR)", err)
	}
	return filepath.Join(h, ".local", "share", AppName), nil
}

// windowsAbs reports whether p is a full Windows path: C:\… or \\server\….
func windowsAbs(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return len(p) > 2
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		('A' <= p[0] && p[0] <= 'Z' || 'a' <= p[0] && p[0] <= 'z')
}

// CacheDir returns $XDG_CACHE_HOME/spare (~/.cache/spare), or on
// Windows %LOCALAPPDATA%\Spare\cache: Windows' cache directory is
// %LOCALAPPDATA% itself, whose Spare folder is the data directory.
func CacheDir() (string, error) {
	return cacheDir(runtime.GOOS, os.Getenv, os.UserCacheDir)
}

func cacheDir(goos string, getenv func(string) string, userCache func() (string, error)) (string, error) {
	if goos == "windows" {
		d, err := defaultDataDir(goos, getenv, nil)
		if err != nil {
			return "", fmt.Errorf("finding the cache directory: %w", err)
		}
		return d + `\cache`, nil
	}
	if x := getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, AppName), nil
	}
	d, err := userCache()
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
