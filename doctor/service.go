package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// What the Linux packages (packaging/) set up. The names are shared with
// the systemd unit and the maintainer scripts there.
const (
	ServiceUnit    = "spare-node.service"
	ServiceGroup   = "spare"          // members' desktop apps may use the daemon's socket
	ServiceDataDir = "/var/lib/spare" // the service's --data
	socketName     = "spare.sock"     // localapi.SocketName (doctor does not import localapi)
)

// notInstalled is the detail of a check that does not apply because Spare
// runs without the packaged service (portable or development mode).
const notInstalled = "not installed as a service"

// ServiceChecks returns the checks of what the Linux package sets up: the
// spare-node service runs, the LocalAPI socket is owner-only or
// owner+group spare, and the current user is in the spare group. Where
// Spare is not installed as a service each passes, saying so. None is
// required: jobs can run without the service.
func ServiceChecks(o Options) []Check { return hostService().checks(o) }

// serviceHost is what the service checks read from the machine; tests
// replace its parts.
type serviceHost struct {
	unitDirs      []string // a unit file in one of these means "installed as a service"
	systemctl     func(ctx context.Context, args ...string) (string, error)
	lookupGroup   func(name string) (*user.Group, error)
	currentUser   func() (*user.User, error)
	userGroups    func(*user.User) ([]string, error) // group ids in the user database
	processGroups func() ([]int, error)              // the groups this process runs with
	euid          int
}

func hostService() serviceHost {
	return serviceHost{
		unitDirs:      []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"},
		systemctl:     runSystemctl,
		lookupGroup:   user.LookupGroup,
		currentUser:   user.Current,
		userGroups:    (*user.User).GroupIds,
		processGroups: os.Getgroups,
		euid:          os.Geteuid(),
	}
}

func runSystemctl(ctx context.Context, args ...string) (string, error) {
	p, err := exec.LookPath("systemctl")
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, p, args...).Output()
	return strings.TrimSpace(string(out)), err
}

func (h serviceHost) checks(o Options) []Check {
	return []Check{
		{"service", false, h.checkService},
		{"LocalAPI socket", false, func(context.Context) Result { return h.checkSocket(o.DataDir) }},
		{"spare group", false, func(context.Context) Result { return h.checkGroup() }},
	}
}

func (h serviceHost) installed() bool {
	for _, d := range h.unitDirs {
		if _, err := os.Stat(filepath.Join(d, ServiceUnit)); err == nil {
			return true
		}
	}
	return false
}

// checkService asks systemd whether spare-node runs.
func (h serviceHost) checkService(ctx context.Context) Result {
	if !h.installed() {
		return Result{Status: OK, Detail: notInstalled}
	}
	state, err := h.systemctl(ctx, "is-active", ServiceUnit)
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return Result{Status: Warn, Detail: "systemctl not found: cannot tell whether " + ServiceUnit + " runs"}
	case state == "active":
		return Result{Status: OK, Detail: ServiceUnit + " is active"}
	case state == "activating" || state == "reloading" || state == "deactivating":
		return Result{Status: Warn, Detail: ServiceUnit + " is " + state, Fix: "wait a moment and run spare doctor again"}
	case state == "inactive" || state == "failed":
		return Result{Status: Fail, Detail: ServiceUnit + " is " + state,
			Fix:    "sudo systemctl enable --now " + ServiceUnit + " (journalctl -u " + ServiceUnit + " says why it stopped)",
			Plain:  "Spare's service is stopped.",
			Action: &Action{Label: "Start Spare's service", Argv: []string{"systemctl", "enable", "--now", ServiceUnit}, Root: true}}
	}
	// No state: systemd is not PID 1 here (a container, a chroot, WSL
	// without systemd).
	return Result{Status: Warn, Detail: "systemd does not answer (" + firstLine(state, err) + "): cannot tell whether " + ServiceUnit + " runs",
		Fix: "start the daemon yourself: sudo spare node --data " + ServiceDataDir}
}

func firstLine(out string, err error) string {
	s := out
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		s = string(ee.Stderr)
	} else if s == "" && err != nil {
		s = err.Error()
	}
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if s == "" {
		s = "no output"
	}
	return s
}

// socketPath picks the socket to look at: the one in dataDir when a
// daemon listens there, else the service's.
func (h serviceHost) socketPath(dataDir string) (path string, ok bool) {
	var cands []string
	if dataDir != "" {
		cands = append(cands, filepath.Join(dataDir, socketName))
	}
	if h.installed() {
		cands = append(cands, filepath.Join(ServiceDataDir, socketName))
	}
	for _, c := range cands {
		if _, err := os.Lstat(c); err == nil {
			return c, true
		}
	}
	if len(cands) == 0 {
		return "", false
	}
	return cands[len(cands)-1], false
}

// checkSocket checks that only the owner, or the owner and the spare
// group, may use the LocalAPI: whoever can use it controls the daemon
// and its wallet.
func (h serviceHost) checkSocket(dataDir string) Result {
	path, exists := h.socketPath(dataDir)
	switch {
	case path == "":
		return Result{Status: OK, Detail: notInstalled}
	case !exists && h.installed():
		return Result{Status: Warn, Detail: "no socket at " + path + ": the daemon is not running",
			Fix: "sudo systemctl start " + ServiceUnit}
	case !exists:
		return Result{Status: OK, Detail: notInstalled + "; no daemon listens at " + path}
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return Result{Status: Fail, Detail: err.Error()}
	}
	if fi.Mode().Type() != os.ModeSocket {
		return Result{Status: Fail, Detail: path + " is not a socket (" + fi.Mode().String() + ")", Fix: "remove it and restart the daemon"}
	}
	perm := fi.Mode().Perm()
	_, gid, _ := fileOwner(fi)
	g, gerr := h.lookupGroup(ServiceGroup)
	spareGID := -1
	if gerr == nil {
		spareGID, _ = strconv.Atoi(g.Gid)
	}
	switch {
	case perm == 0o600:
		return Result{Status: OK, Detail: path + " is 0600 (owner only)"}
	case perm == 0o660 && gid == spareGID:
		if r, bad := h.checkTraverse(path, spareGID); bad {
			return r
		}
		return Result{Status: OK, Detail: path + " is 0660, group " + ServiceGroup}
	}
	group := strconv.Itoa(gid)
	if gg, err := user.LookupGroupId(group); err == nil {
		group = gg.Name
	}
	return Result{Status: Fail,
		Detail: fmt.Sprintf("%s is %#o, group %s: users outside the %s group may control the daemon and its wallet", path, perm, group, ServiceGroup),
		Fix:    fmt.Sprintf("sudo chmod 0600 %s, or restart the daemon, which sets 0600 (0660 with group %s when that group exists)", path, ServiceGroup)}
}

// checkTraverse reports (true) when members of the group cannot reach a
// group socket because its directory shuts them out.
func (h serviceHost) checkTraverse(path string, gid int) (Result, bool) {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return Result{}, false
	}
	perm := fi.Mode().Perm()
	_, dgid, ok := fileOwner(fi)
	if !ok || perm&0o001 != 0 || (dgid == gid && perm&0o010 != 0) {
		return Result{}, false
	}
	return Result{Status: Warn,
		Detail: fmt.Sprintf("%s is 0660, group %s, but members cannot enter %s (%#o)", path, ServiceGroup, dir, perm),
		Fix:    fmt.Sprintf("sudo chgrp %s %s && sudo chmod 0710 %s", ServiceGroup, dir, dir)}, true
}

// checkGroup checks that the person running doctor, and so their desktop
// app, may use the service's socket.
func (h serviceHost) checkGroup() Result {
	g, gerr := h.lookupGroup(ServiceGroup)
	if gerr != nil {
		if h.installed() {
			return Result{Status: Fail, Detail: "the " + ServiceGroup + " group does not exist",
				Fix: "sudo addgroup --system " + ServiceGroup + " && sudo systemctl restart " + ServiceUnit}
		}
		return Result{Status: OK, Detail: notInstalled}
	}
	if h.euid == 0 {
		return Result{Status: OK, Detail: "root may use the socket without the group"}
	}
	u, err := h.currentUser()
	if err != nil {
		return Result{Status: Warn, Detail: "who is running this? " + err.Error()}
	}
	gid, _ := strconv.Atoi(g.Gid)
	if pg, err := h.processGroups(); err == nil && slices.Contains(pg, gid) {
		return Result{Status: OK, Detail: u.Username + " is in the " + ServiceGroup + " group"}
	}
	if ids, err := h.userGroups(u); err == nil && slices.Contains(ids, g.Gid) {
		return Result{Status: Warn, Detail: u.Username + " was added to the " + ServiceGroup + " group after this session began",
			Fix: "log out and back in (or run: newgrp " + ServiceGroup + ")"}
	}
	return Result{Status: Warn, Detail: u.Username + " is not in the " + ServiceGroup + " group: the desktop app cannot reach the daemon",
		Fix:   "sudo usermod -aG " + ServiceGroup + " " + u.Username + ", then log out and back in",
		Plain: "Your account may not use Spare's service yet.",
		Action: &Action{Label: "Let my account use Spare", Argv: []string{"usermod", "-aG", ServiceGroup, u.Username}, Root: true,
			After: "Log out and back in for it to take effect."}}
}
