package sandbox

import (
	"context"
	"runtime"
	"slices"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func apply(t *testing.T, s *oci.Spec, opts ...oci.SpecOpts) *oci.Spec {
	t.Helper()
	if s == nil {
		s = &oci.Spec{}
	}
	for _, o := range opts {
		if err := o(namespaces.WithNamespace(context.Background(), "test"), nil, &containers.Container{ID: "t"}, s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestWithIsolatedNetwork(t *testing.T) {
	s := &oci.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
		{Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"}, {Type: specs.PIDNamespace},
	}}}
	apply(t, s, withIsolatedNetwork)
	var net []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type == specs.NetworkNamespace {
			net = append(net, n)
		}
	}
	if len(net) != 1 || net[0].Path != "" {
		t.Errorf("network namespaces %v, want one new namespace (no path)", net)
	}
	if len(s.Linux.Namespaces) != 2 {
		t.Errorf("other namespaces lost: %v", s.Linux.Namespaces)
	}
}

func TestWithNoCapabilities(t *testing.T) {
	s := apply(t, nil, oci.WithDefaultSpec(), withNoCapabilities)
	c := s.Process.Capabilities
	for name, set := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted, "inheritable": c.Inheritable, "ambient": c.Ambient} {
		if len(set) != 0 {
			t.Errorf("%s capabilities %v, want none", name, set)
		}
	}
}

func TestWithUnprivilegedUser(t *testing.T) {
	s := &oci.Spec{Process: &specs.Process{User: specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 10}}}}
	apply(t, s, withUnprivilegedUser(JobUID, JobGID))
	u := s.Process.User
	if u.UID != JobUID || u.GID != JobGID || !slices.Equal(u.AdditionalGids, []uint32{JobGID}) {
		t.Errorf("user %+v, want %d:%d with no other groups", u, JobUID, JobGID)
	}
}

func TestWithMaskedPaths(t *testing.T) {
	s := &oci.Spec{Linux: &specs.Linux{MaskedPaths: []string{"/proc/kcore", "/sys/firmware"}}}
	apply(t, s, withMaskedPaths(extraMaskedPaths))
	for _, p := range append(extraMaskedPaths, "/proc/kcore") {
		if n := count(s.Linux.MaskedPaths, p); n != 1 {
			t.Errorf("%s masked %d times, want once", p, n)
		}
	}
}

func count(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestWithResources(t *testing.T) {
	l := Limits{MilliCPU: 1500, MemoryBytes: 256 << 20, Pids: 64}
	r := apply(t, nil, withResources(l)).Linux.Resources
	if *r.Memory.Limit != 256<<20 || *r.Memory.Swap != 256<<20 || *r.Memory.Swappiness != 0 {
		t.Errorf("memory %+v, want limit = swap = 256 MiB, swappiness 0", r.Memory)
	}
	if *r.CPU.Quota != 150_000 || *r.CPU.Period != 100_000 {
		t.Errorf("cpu quota %d/%d, want 150000/100000", *r.CPU.Quota, *r.CPU.Period)
	}
	if *r.Pids.Limit != 64 {
		t.Errorf("pids %d, want 64", *r.Pids.Limit)
	}
}

func TestWithJobMounts(t *testing.T) {
	s := &oci.Spec{Mounts: []specs.Mount{{Destination: "/tmp", Type: "bind", Source: "/host/tmp"}, {Destination: "/proc", Type: "proc"}}}
	apply(t, s, withJobMounts(jobMounts{Input: "/h/in", Output: "/h/out"}, Limits{TmpBytes: 1 << 20}))
	got := map[string]specs.Mount{}
	for _, m := range s.Mounts {
		if _, dup := got[m.Destination]; dup {
			t.Errorf("%s mounted twice", m.Destination)
		}
		got[m.Destination] = m
	}
	if m := got["/tmp"]; m.Type != "tmpfs" || !slices.Contains(m.Options, "size=1048576") || !slices.Contains(m.Options, "nosuid") {
		t.Errorf("/tmp %+v, want a 1 MiB nosuid tmpfs", m)
	}
	if m := got["/input"]; m.Source != "/h/in" || !slices.Contains(m.Options, "ro") || !slices.Contains(m.Options, "nosuid") {
		t.Errorf("/input %+v, want a read-only nosuid bind of /h/in", m)
	}
	if m := got["/output"]; m.Source != "/h/out" || !slices.Contains(m.Options, "rw") || !slices.Contains(m.Options, "nodev") {
		t.Errorf("/output %+v, want a writable nodev bind of /h/out", m)
	}
	if _, ok := got["/proc"]; !ok {
		t.Error("other mounts lost")
	}
	// No input, no /input mount.
	s = apply(t, nil, withJobMounts(jobMounts{Output: "/h/out"}, Limits{TmpBytes: 1 << 20}))
	for _, m := range s.Mounts {
		if m.Destination == "/input" {
			t.Error("/input mounted without inputs")
		}
	}
}

func TestWithRlimits(t *testing.T) {
	s := apply(t, nil, withRlimits(Limits{Pids: 99}))
	want := map[string]uint64{"RLIMIT_NOFILE": 4096, "RLIMIT_CORE": 0, "RLIMIT_NPROC": 99}
	for _, r := range s.Process.Rlimits {
		if w, ok := want[r.Type]; !ok || r.Hard != w || r.Soft != w {
			t.Errorf("%s = %d/%d, want %d", r.Type, r.Soft, r.Hard, w)
		}
		delete(want, r.Type)
	}
	if len(want) != 0 {
		t.Errorf("missing rlimits %v", want)
	}
}

func TestNativeSyscallsOnly(t *testing.T) {
	s := apply(t, nil, hardenedSpec(DefaultLimits, jobMounts{}, nil, []string{"/bin/true"}, nil, nil)...)
	arch, ok := nativeSyscallArch[runtime.GOARCH]
	if !ok {
		t.Skipf("no narrower seccomp architecture list for %s", runtime.GOARCH)
	}
	if got := s.Linux.Seccomp.Architectures; !slices.Equal(got, []specs.Arch{arch}) {
		t.Errorf("seccomp architectures %v, want only %s", got, arch)
	}
	if len(s.Linux.Seccomp.Syscalls) == 0 || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Errorf("the default profile's rules are gone: %d rules, default %s", len(s.Linux.Seccomp.Syscalls), s.Linux.Seccomp.DefaultAction)
	}
}

func TestHardenedSpec(t *testing.T) {
	s := apply(t, nil, hardenedSpec(DefaultLimits, jobMounts{Output: "/o"}, nil, []string{"/bin/true"}, []string{"A=1"}, nil)...)
	switch {
	case !s.Root.Readonly:
		t.Error("root is writable")
	case !s.Process.NoNewPrivileges:
		t.Error("no_new_privs is off")
	case s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno:
		t.Errorf("seccomp %v, want the default profile (deny by default)", s.Linux.Seccomp)
	case s.Process.User.UID != JobUID:
		t.Errorf("uid %d", s.Process.User.UID)
	case !slices.Contains(s.Process.Env, "A=1"):
		t.Errorf("env %v", s.Process.Env)
	case !slices.Equal(s.Process.Args, []string{"/bin/true"}):
		t.Errorf("args %v", s.Process.Args)
	case s.Hostname != "spare-job":
		t.Errorf("hostname %q", s.Hostname)
	}
	for _, d := range s.Linux.Devices {
		if d.Path != "/dev/null" && d.Path != "/dev/zero" && d.Path != "/dev/full" && d.Path != "/dev/random" && d.Path != "/dev/urandom" && d.Path != "/dev/tty" && d.Path != "/dev/ptmx" && d.Path != "/dev/console" {
			t.Errorf("host device %s granted", d.Path)
		}
	}
}
