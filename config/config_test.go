package config

import (
	"errors"
	"strings"
	"testing"
)

// TestDefaultDataDir: Windows keeps Spare's data under
// %LOCALAPPDATA%\Spare (or the profile's AppData\Local when the variable
// is unset), never a Linux-style dot directory; Linux and macOS keep the
// XDG place.
func TestDefaultDataDir(t *testing.T) {
	home := func() (string, error) { return "/home/ann", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	for _, tc := range []struct {
		goos string
		env  map[string]string
		home func() (string, error)
		want string
		err  string
	}{
		{goos: "windows", env: map[string]string{"LOCALAPPDATA": `C:\Users\ann\AppData\Local`, "XDG_DATA_HOME": "/x"}, home: noHome, want: `C:\Users\ann\AppData\Local\Spare`},
		{goos: "windows", env: map[string]string{"LOCALAPPDATA": `D:\Local\`}, home: noHome, want: `D:\Local\Spare`},
		{goos: "windows", env: map[string]string{"USERPROFILE": `C:\Users\bo`}, home: noHome, want: `C:\Users\bo\AppData\Local\Spare`},
		{goos: "windows", env: map[string]string{"LOCALAPPDATA": `\\fs\profiles\cy\Local`}, home: noHome, want: `\\fs\profiles\cy\Local\Spare`},
		{goos: "windows", env: map[string]string{"LOCALAPPDATA": `Local`}, home: noHome, err: "set --data DIR"},
		{goos: "linux", env: map[string]string{"LOCALAPPDATA": `C:\x`}, home: home, want: "/home/ann/.local/share/spare"},
		{goos: "linux", env: map[string]string{"XDG_DATA_HOME": "/data"}, home: noHome, want: "/data/spare"},
		{goos: "darwin", env: nil, home: noHome, err: "set --data DIR"},
	} {
		got, err := defaultDataDir(tc.goos, func(k string) string { return tc.env[k] }, tc.home)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %v: %q, %v; want an error saying %q", tc.goos, tc.env, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %v: %q, %v; want %q", tc.goos, tc.env, got, err, tc.want)
		}
	}
}

// TestCacheDirOnWindows: the cache is a folder of its own inside Spare's
// data folder, not the data folder itself (Windows' cache directory is
// %LOCALAPPDATA%, where the data directory is).
func TestCacheDirOnWindows(t *testing.T) {
	env := map[string]string{"LOCALAPPDATA": `C:\Users\ann\AppData\Local`}
	got, err := cacheDir("windows", func(k string) string { return env[k] }, func() (string, error) { return env["LOCALAPPDATA"], nil })
	if err != nil || got != `C:\Users\ann\AppData\Local\Spare\cache` {
		t.Errorf("%q, %v", got, err)
	}
	got, err = cacheDir("linux", func(string) string { return "" }, func() (string, error) { return "/home/ann/.cache", nil })
	if err != nil || got != "/home/ann/.cache/spare" {
		t.Errorf("linux: %q, %v", got, err)
	}
}
