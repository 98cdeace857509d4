package doctor

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fakeHost is a serviceHost with the unit installed or not, a systemctl
// answering state (or failing with err), and a spare group with gid.
func fakeHost(t *testing.T, installed bool, state string, err error, gid int) serviceHost {
	t.Helper()
	dir := t.TempDir()
	if installed {
		if werr := os.WriteFile(filepath.Join(dir, ServiceUnit), []byte("[Service]\n"), 0o644); werr != nil {
			t.Fatal(werr)
		}
	}
	return serviceHost{
		unitDirs:  []string{filepath.Join(dir, "missing"), dir},
		systemctl: func(context.Context, ...string) (string, error) { return state, err },
		lookupGroup: func(name string) (*user.Group, error) {
			if gid < 0 {
				return nil, user.UnknownGroupError(name)
			}
			return &user.Group{Name: name, Gid: strconv.Itoa(gid)}, nil
		},
		currentUser:   func() (*user.User, error) { return &user.User{Username: "alice", Uid: "1000"}, nil },
		userGroups:    func(*user.User) ([]string, error) { return []string{"1000"}, nil },
		processGroups: func() ([]int, error) { return []int{1000}, nil },
		euid:          1000,
	}
}

func TestServiceChecksNames(t *testing.T) {
	cs := ServiceChecks(Options{})
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
		if c.Required {
			t.Errorf("%s is required; jobs run without the service", c.Name)
		}
	}
	// The names are part of `spare doctor --json`.
	if got := strings.Join(names, ","); got != "service,LocalAPI socket,spare group" {
		t.Errorf("checks = %s", got)
	}
}

func TestCheckService(t *testing.T) {
	noSystemd := &exec.ExitError{Stderr: []byte("System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus")}
	for _, tc := range []struct {
		name      string
		installed bool
		state     string
		err       error
		want      Status
		detail    string // part of the detail
		fix       string // part of the fix
	}{
		{"not installed", false, "", nil, OK, notInstalled, ""},
		{"active", true, "active", nil, OK, "is active", ""},
		{"inactive", true, "inactive", errors.New("exit status 3"), Fail, "is inactive", "systemctl enable --now " + ServiceUnit},
		{"failed", true, "failed", errors.New("exit status 3"), Fail, "is failed", "journalctl -u"},
		{"starting", true, "activating", nil, Warn, "activating", "again"},
		{"no systemd", true, "", noSystemd, Warn, "has not been booted with systemd", "spare node --data " + ServiceDataDir},
		{"no systemctl", true, "", exec.ErrNotFound, Warn, "systemctl not found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fakeHost(t, tc.installed, tc.state, tc.err, 1000).checkService(context.Background())
			if r.Status != tc.want || !strings.Contains(r.Detail, tc.detail) || !strings.Contains(r.Fix, tc.fix) {
				t.Errorf("got %+v, want %s with %q and fix %q", r, tc.want, tc.detail, tc.fix)
			}
		})
	}
}

// listen makes a real unix socket in a fresh directory with the given
// modes, group-owned by this process's group.
func listen(t *testing.T, dirMode, sockMode os.FileMode) (dir string) {
	t.Helper()
	dir = t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, socketName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	if err := os.Chmod(filepath.Join(dir, socketName), sockMode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckSocket(t *testing.T) {
	mine := os.Getgid() // sockets made here belong to this group
	for _, tc := range []struct {
		name     string
		dirMode  os.FileMode
		sockMode os.FileMode
		spareGID int
		want     Status
		detail   string
	}{
		{"owner only", 0o700, 0o600, mine, OK, "0600 (owner only)"},
		{"group spare", 0o710, 0o660, mine, OK, "0660, group spare"},
		{"group spare, directory shut", 0o700, 0o660, mine, Warn, "members cannot enter"},
		{"group spare, directory open to all", 0o711, 0o660, mine, OK, "0660, group spare"},
		{"another group", 0o710, 0o660, mine + 4242, Fail, "users outside the spare group"},
		{"no spare group", 0o710, 0o660, -1, Fail, "users outside the spare group"},
		{"world", 0o700, 0o666, mine, Fail, "0666"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := listen(t, tc.dirMode, tc.sockMode)
			r := fakeHost(t, false, "", nil, tc.spareGID).checkSocket(dir)
			if r.Status != tc.want || !strings.Contains(r.Detail, tc.detail) {
				t.Errorf("got %+v, want %s with %q", r, tc.want, tc.detail)
			}
			if r.Status != OK && r.Fix == "" {
				t.Errorf("no fix for %+v", r)
			}
		})
	}

	t.Run("not a socket", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, socketName), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if r := fakeHost(t, false, "", nil, mine).checkSocket(dir); r.Status != Fail || !strings.Contains(r.Detail, "not a socket") {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("no daemon, no service", func(t *testing.T) {
		if r := fakeHost(t, false, "", nil, mine).checkSocket(t.TempDir()); r.Status != OK || !strings.Contains(r.Detail, "no daemon listens") {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("no data directory, no service", func(t *testing.T) {
		if r := fakeHost(t, false, "", nil, mine).checkSocket(""); r.Status != OK || r.Detail != notInstalled {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("service installed, daemon down", func(t *testing.T) {
		h := fakeHost(t, true, "", nil, mine)
		if _, err := os.Stat(filepath.Join(ServiceDataDir, socketName)); err == nil {
			t.Skip("a Spare service runs on this machine")
		}
		r := h.checkSocket(t.TempDir())
		if r.Status != Warn || !strings.Contains(r.Detail, filepath.Join(ServiceDataDir, socketName)) || !strings.Contains(r.Fix, "systemctl start") {
			t.Errorf("got %+v", r)
		}
	})
}

func TestCheckGroup(t *testing.T) {
	for _, tc := range []struct {
		name       string
		installed  bool
		gid        int // -1: no spare group
		euid       int
		inDatabase bool
		inProcess  bool
		want       Status
		text       string // part of the detail or the fix
	}{
		{"not installed", false, -1, 1000, false, false, OK, notInstalled},
		{"group missing", true, -1, 1000, false, false, Fail, "addgroup --system spare"},
		{"root", true, 900, 0, false, false, OK, "root"},
		{"member", true, 900, 1000, true, true, OK, "alice is in the spare group"},
		{"added, session older", true, 900, 1000, true, false, Warn, "log out and back in"},
		{"not a member", true, 900, 1000, false, false, Warn, "usermod -aG spare alice"},
		{"not a member, not installed", false, 900, 1000, false, false, Warn, "cannot reach the daemon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := fakeHost(t, tc.installed, "", nil, tc.gid)
			h.euid = tc.euid
			h.userGroups = func(*user.User) ([]string, error) {
				if tc.inDatabase {
					return []string{"1000", "900"}, nil
				}
				return []string{"1000"}, nil
			}
			h.processGroups = func() ([]int, error) {
				if tc.inProcess {
					return []int{1000, 900}, nil
				}
				return []int{1000}, nil
			}
			r := h.checkGroup()
			if r.Status != tc.want || !strings.Contains(r.Detail+" | "+r.Fix, tc.text) {
				t.Errorf("got %+v, want %s with %q", r, tc.want, tc.text)
			}
			// Joining the group is one command: the app's button runs it
			// through the system's privilege prompt.
			if strings.HasPrefix(tc.name, "not a member") {
				if r.Action == nil || r.Plain == "" || !slices.Equal(r.Action.Command(), []string{"pkexec", "usermod", "-aG", "spare", "alice"}) {
					t.Errorf("%s: plain %q, action %+v; want pkexec usermod -aG spare alice", tc.name, r.Plain, r.Action)
				}
			} else if r.Action != nil {
				t.Errorf("%s: an action %+v where nothing needs doing", tc.name, r.Action)
			}
		})
	}
}
