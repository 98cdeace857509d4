//go:build linux

package app

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestPrepareSessionBus(t *testing.T) {
	withBus := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(withBus, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	notSocket := t.TempDir()
	if err := os.WriteFile(filepath.Join(notSocket, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, addr, runtimeDir, want string
	}{
		{"address kept", "unix:path=/run/user/1000/bus", withBus, "unix:path=/run/user/1000/bus"},
		{"systemd user bus named", "", withBus, "unix:path=" + filepath.Join(withBus, "bus")},
		{"a file that is not a socket", "", notSocket, NoSessionBus},
		{"no runtime dir", "", "", NoSessionBus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(busEnv, tc.addr)
			t.Setenv("XDG_RUNTIME_DIR", tc.runtimeDir)
			PrepareSessionBus()
			if got := os.Getenv(busEnv); got != tc.want {
				t.Errorf("%s=%q, want %q", busEnv, got, tc.want)
			}
			if tc.want == NoSessionBus {
				if s := ProbeSession(); s.Bus || s.Why == "" {
					t.Errorf("ProbeSession() = %+v with no bus, want no bus and a reason", s)
				}
			}
		})
	}
}
