// Package doctor checks that this machine can run Spare jobs and says, for
// each problem, the one command that fixes it.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/sandbox"
)

// Status of one check.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn" // works, but something is missing or odd
	Fail Status = "fail"
)

// Result is the outcome of one check.
type Result struct {
	Name     string `json:"name"`
	Status   Status `json:"status"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix,omitempty"`
	Required bool   `json:"required"`
	// Plain says a problem in a household's words, for the app's first
	// run ("The container service is not running."); Detail keeps the
	// technical line. Empty: only Detail.
	Plain string `json:"plain,omitempty"`
	// Action is the fix as one command the app may run for the person
	// at a click; nil: the fix is not one command.
	Action *Action `json:"action,omitempty"`
}

// Action is a fix the app can run. A command that needs root runs
// through the system's own privilege prompt (pkexec, polkit): the person
// answers the system, and Spare never sees or keeps a password.
type Action struct {
	// Label is the button's words: "Start the container service".
	Label string `json:"label"`
	// Argv is the command (argv[0] is looked up on PATH).
	Argv []string `json:"argv"`
	// Root says the command needs root: it runs as pkexec ARGV.
	Root bool `json:"root,omitempty"`
	// After says what the person must do once it ran ("" for nothing).
	After string `json:"after,omitempty"`
}

// Command is the argv that carries the action out: through pkexec when
// it needs root (pkexec asks through the desktop's polkit agent).
func (a Action) Command() []string {
	if a.Root {
		return append([]string{"pkexec"}, a.Argv...)
	}
	return slices.Clone(a.Argv)
}

// Check is one named test of the machine.
type Check struct {
	Name     string
	Required bool // a failure means no job can run
	Run      func(ctx context.Context) Result
}

// Options locate what the checks look at. The zero value checks the system
// containerd and the default data directory.
type Options struct {
	Socket  string // containerd socket; empty: the system one
	DataDir string // data directory; empty: skip the check
	// CgroupRoot is where cgroups are mounted. Empty: /sys/fs/cgroup.
	CgroupRoot string
}

// Run runs the checks in order, each with a time limit.
func Run(ctx context.Context, checks []Check) []Result {
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r := c.Run(cctx)
		cancel()
		r.Name, r.Required = c.Name, c.Required
		out = append(out, r)
	}
	return out
}

// Healthy reports whether every required check passed.
func Healthy(rs []Result) bool {
	for _, r := range rs {
		if r.Required && r.Status == Fail {
			return false
		}
	}
	return true
}

// Standard returns the checks for running jobs: data directory,
// containerd, runc and its shim, cgroups and the freezer, and CDI specs
// for GPUs.
func Standard(o Options) []Check {
	if o.CgroupRoot == "" {
		o.CgroupRoot = "/sys/fs/cgroup"
	}
	var checks []Check
	if o.DataDir != "" {
		checks = append(checks, Check{"data directory", true, func(context.Context) Result { return checkDataDir(o.DataDir) }})
	}
	return append(checks,
		Check{"containerd", true, func(ctx context.Context) Result { return checkContainerd(ctx, o.Socket) }},
		Check{"runc", true, func(ctx context.Context) Result {
			return checkBinary(ctx, "runc", "sudo apt-get install runc", "--version")
		}},
		Check{"containerd runc shim", true, func(ctx context.Context) Result {
			return checkBinary(ctx, "containerd-shim-runc-v2", "sudo apt-get install containerd", "-v")
		}},
		Check{"cgroups", true, func(context.Context) Result { return checkCgroups(o.CgroupRoot) }},
		Check{"GPU (NVML, CDI)", false, checkGPU},
	)
}

func checkDataDir(dir string) Result {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Result{Status: Fail, Detail: err.Error(), Fix: "pass a writable --data DIR"}
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		return Result{Status: Fail, Detail: fmt.Sprintf("%s is not writable: %v", dir, err), Fix: "sudo chown -R $USER " + dir}
	}
	f.Close()
	os.Remove(f.Name())
	fi, _ := os.Stat(dir)
	if fi != nil && fi.Mode().Perm()&0o077 != 0 {
		return Result{Status: Warn, Detail: fmt.Sprintf("%s is readable by others (%s)", dir, fi.Mode().Perm()), Fix: "chmod 700 " + dir}
	}
	return Result{Status: OK, Detail: dir}
}

func checkContainerd(ctx context.Context, socket string) Result {
	sb, err := sandbox.New(ctx, sandbox.Config{Socket: socket, WorkDir: os.TempDir()})
	if err != nil {
		return containerdProblem(err)
	}
	defer sb.Close()
	v, err := sb.Version(ctx)
	if err != nil {
		return containerdProblem(err)
	}
	return Result{Status: OK, Detail: "containerd " + v + " at " + socketOrDefault(socket)}
}

func socketOrDefault(s string) string {
	if s == "" {
		return "/run/containerd/containerd.sock"
	}
	return s
}

// containerdProblem is the failed containerd check: the technical line,
// the fix, and where the fix is starting the service, the button for it.
func containerdProblem(err error) Result {
	r := Result{Status: Fail, Detail: err.Error(), Fix: containerdFix(err)}
	switch {
	case errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "permission denied"):
		r.Plain = "Spare may not use the container service (containerd) on this computer."
	case !onPath("containerd"):
		r.Plain = "The container service (containerd) that runs jobs is not installed."
	default:
		r.Plain = "The container service (containerd) that runs jobs is not running."
		r.Action = &Action{Label: "Start the container service", Argv: []string{"systemctl", "start", "containerd"}, Root: true}
	}
	return r
}

func containerdFix(err error) string {
	switch {
	case errors.Is(err, sandbox.ErrMountNamespace):
		return "run Spare in containerd's mount namespace: not under `ip netns exec` or `unshare -m`, nor from a service with PrivateTmp= or ProtectSystem=; the detail names containerd's process for `nsenter -t PID -m`"
	case errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "permission denied"):
		return "run Spare's daemon as root, or add yourself to the group owning the containerd socket"
	case !onPath("containerd"):
		return "sudo apt-get install containerd && sudo systemctl enable --now containerd"
	}
	return "sudo systemctl start containerd"
}

func onPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

func checkBinary(ctx context.Context, name, fix string, versionArg string) Result {
	p, err := exec.LookPath(name)
	if err != nil {
		return Result{Status: Fail, Detail: name + " not found on PATH", Fix: fix}
	}
	out, err := exec.CommandContext(ctx, p, versionArg).CombinedOutput()
	if err != nil {
		return Result{Status: Fail, Detail: fmt.Sprintf("%s does not run: %v", p, err), Fix: fix}
	}
	return Result{Status: OK, Detail: strings.Join(strings.Fields(string(out)), " ")}
}

// checkCgroups finds the cgroup version and whether the freezer, which
// gives the machine back at once, is there.
func checkCgroups(root string) Result {
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		// cgroup v2: the freezer is cgroup.freeze in every non-root group (Linux ≥ 5.2).
		matches, _ := filepath.Glob(filepath.Join(root, "*", "cgroup.freeze"))
		if len(matches) == 0 {
			return Result{Status: Fail, Detail: "cgroup v2 without cgroup.freeze (kernel older than 5.2?)", Fix: "upgrade to Linux 5.2 or newer"}
		}
		return Result{Status: OK, Detail: "cgroup v2 with freezer"}
	}
	if _, err := os.Stat(filepath.Join(root, "freezer")); err == nil {
		return Result{Status: OK, Detail: "cgroup v1 with freezer"}
	}
	if _, err := os.Stat(root); err != nil {
		return Result{Status: Fail, Detail: "no cgroup filesystem at " + root, Fix: "mount cgroups (systemd does this at boot)"}
	}
	return Result{Status: Fail, Detail: "cgroup v1 without the freezer controller", Fix: "boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2"}
}

// checkGPU reads NVML and the CDI specs. No GPU is not a failure: the
// machine takes CPU-only jobs.
func checkGPU(ctx context.Context) Result {
	r := gpu.Check(ctx, nil)
	switch {
	case r.OK:
		return Result{Status: OK, Detail: r.Status}
	case strings.HasPrefix(r.Status, "no NVIDIA GPU"):
		return Result{Status: OK, Detail: r.Status + " — CPU-only jobs"}
	}
	return Result{Status: Warn, Detail: r.Status, Fix: r.Fix}
}
