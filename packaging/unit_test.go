package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparegpu/spare/doctor"
	"github.com/sparegpu/spare/internal/testenv"
)

// unitFile parses a systemd unit into "Section.Key" → values, in order.
func unitFile(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not key=value: %q", path, line)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// mountNamespaceDirectives each give the service a mount namespace of its
// own. systemd sets every mount in it to slave propagation, so the tmpfs
// the sandbox mounts over a job's output directory would stay invisible to
// containerd and runc (TestSlaveNamespaceHidesMounts shows it): the job
// would write to the bare directory, without the size cap, and the daemon
// would read back an empty tmpfs as the job's outputs.
var mountNamespaceDirectives = []string{
	"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts",
	"ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths",
	"TemporaryFileSystem", "BindPaths", "BindReadOnlyPaths", "RootDirectory", "RootImage",
	"ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
	"ProtectControlGroups", "ProtectProc", "ProcSubset", "MountAPIVFS", "MountFlags",
	"DynamicUser", "LogsDirectory", "PrivateUsers",
	// These turn on a device allow list, which would hide /dev/nvidia*
	// from NVML: the daemon would see no GPU and offer CPU-only work.
	"DevicePolicy", "DeviceAllow", "ProtectClock",
}

func TestUnitHardening(t *testing.T) {
	u := unitFile(t, filepath.Join("linux", doctor.ServiceUnit))
	one := func(key string) string {
		t.Helper()
		v := u[key]
		if len(v) != 1 {
			t.Fatalf("%s: want one value, have %q", key, v)
		}
		return v[0]
	}
	if got, want := one("Service.ExecStart"), "/usr/bin/spare node --data "+doctor.ServiceDataDir; got != want {
		t.Errorf("ExecStart = %q, want %q (doctor.ServiceDataDir and the maintainer scripts use that directory)", got, want)
	}
	for _, d := range mountNamespaceDirectives {
		if v, ok := u["Service."+d]; ok {
			t.Errorf("%s=%s: see mountNamespaceDirectives for why the daemon cannot have it", d, v)
		}
	}
	for key, want := range map[string]string{
		"Service.NoNewPrivileges":         "yes",
		"Service.RestrictSUIDSGID":        "yes",
		"Service.RestrictNamespaces":      "yes",
		"Service.SystemCallArchitectures": "native",
		"Service.UMask":                   "0077",
		"Service.KillMode":                "mixed",
		"Install.WantedBy":                "multi-user.target",
	} {
		if got := one(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	caps := strings.Fields(one("Service.CapabilityBoundingSet"))
	// The sandbox mounts a tmpfs per job (CAP_SYS_ADMIN), the daemon hands
	// its socket to the spare group (CAP_CHOWN) and removes job files
	// owned by the job's user (CAP_DAC_OVERRIDE).
	for _, need := range []string{"CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_DAC_OVERRIDE"} {
		if !contains(caps, need) {
			t.Errorf("CapabilityBoundingSet lacks %s", need)
		}
	}
	for _, bad := range []string{"CAP_SYS_MODULE", "CAP_SYS_PTRACE", "CAP_NET_ADMIN", "CAP_SYS_RAWIO", "CAP_SETUID", "CAP_KILL"} {
		if contains(caps, bad) {
			t.Errorf("CapabilityBoundingSet grants %s, which the daemon does not use", bad)
		}
	}
	if f := strings.Join(u["Service.SystemCallFilter"], " "); !strings.Contains(f, "@mount") || !strings.Contains(f, "@system-service") {
		t.Errorf("SystemCallFilter %q must allow @system-service and @mount (the per-job tmpfs)", f)
	}
	if !contains(strings.Fields(strings.Join(u["Unit.After"], " ")), "containerd.service") {
		t.Errorf("After= must name containerd.service")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSlaveNamespaceHidesMounts shows the kernel behaviour behind
// mountNamespaceDirectives. Inside a private "host" namespace with a
// shared mount (as on a systemd machine, where / is shared), a tmpfs
// mounted in a child namespace with slave propagation, as systemd gives
// a service with any of those directives, stays invisible to the host,
// where containerd lives; with propagation unchanged it is seen.
func TestSlaveNamespaceHidesMounts(t *testing.T) {
	testenv.NeedRoot(t)
	unshare := testenv.NeedCommand(t, "unshare", "util-linux")
	const script = `set -e
d=$1
mount --bind "$d" "$d"
mount --make-shared "$d"
mkdir "$d/output"
unshare --mount --propagation "$2" sh -c 'mount -t tmpfs -o size=1m spare-test "$1/output" && echo done > "$1/output/result"' sh "$d"
if [ -e "$d/output/result" ]; then echo visible; else echo hidden; fi`
	for propagation, want := range map[string]string{"slave": "hidden", "unchanged": "visible"} {
		out, err := exec.Command(unshare, "--mount", "sh", "-c", script, "sh", t.TempDir(), propagation).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", propagation, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("a job-output tmpfs mounted in a namespace with %s propagation is %s on the host, want %s", propagation, got, want)
		}
	}
}
