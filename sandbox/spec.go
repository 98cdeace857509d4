package sandbox

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cdi"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// JobUID and JobGID are the unprivileged identity every job runs as
// ("nobody"), whatever user the image asks for.
const (
	JobUID = 65534
	JobGID = 65534
)

// Paths inside the container.
const (
	OutputPath = "/output"
	InputPath  = "/input"
	TmpPath    = "/tmp"
)

// extraMaskedPaths hides host information beyond containerd's defaults.
var extraMaskedPaths = []string{
	"/proc/sched_debug",
	"/proc/timer_list",
	"/proc/kallsyms",
	"/proc/interrupts",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
	"/sys/kernel/debug",
}

// hardenedSpec returns the full option list for a job: the defaults every
// job gets, then what the job asked for within its limits.
func hardenedSpec(l Limits, m jobMounts, gpus []string, args []string, env []string, img oci.Image) []oci.SpecOpts {
	opts := []oci.SpecOpts{oci.WithDefaultSpec(), oci.WithDefaultUnixDevices}
	if img != nil {
		opts = append(opts, oci.WithImageConfigArgs(img, args))
	} else if len(args) > 0 {
		opts = append(opts, oci.WithProcessArgs(args...))
	}
	opts = append(opts,
		oci.WithEnv(env),
		withHostname("spare-job"),
		withIsolatedNetwork,
		oci.WithRootFSReadonly(),
		withNoCapabilities,
		oci.WithNoNewPrivileges,
		seccomp.WithDefaultProfile(),
		withNativeSyscallsOnly,
		withUnprivilegedUser(JobUID, JobGID),
		withMaskedPaths(extraMaskedPaths),
		withResources(l),
		withJobMounts(m, l),
		withRlimits(l),
	)
	if len(gpus) > 0 {
		opts = append(opts, cdi.WithCDIDevices(gpus...))
	}
	return opts
}

func withHostname(name string) oci.SpecOpts { return oci.WithHostname(name) }

// withIsolatedNetwork gives the job a fresh network namespace: runc brings
// up its loopback and nothing else, so the job has no route anywhere. Any
// path that would join an existing namespace is removed.
func withIsolatedNetwork(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	ns := slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
		return n.Type == specs.NetworkNamespace
	})
	s.Linux.Namespaces = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	return nil
}

// nativeSyscallArch is the seccomp name of the architecture Spare runs on,
// for the GOARCHs whose kernels also take another architecture's calls.
var nativeSyscallArch = map[string]specs.Arch{
	"amd64": specs.ArchX86_64,  // not i386 (INT 0x80) or x32
	"arm64": specs.ArchAARCH64, // not 32-bit ARM
}

// withNativeSyscallsOnly narrows the seccomp filter to the native
// architecture. containerd's default profile also admits the 32-bit
// entries (i386, x32; ARM) for old binaries; a job image for this machine
// never needs them, and they are older, less exercised kernel paths.
// A call through one kills the calling thread. It also shortens the
// filter runc compiles for every job: about 5 ms of each start.
func withNativeSyscallsOnly(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
	arch, ok := nativeSyscallArch[runtime.GOARCH]
	if !ok || s.Linux == nil || s.Linux.Seccomp == nil {
		return nil
	}
	s.Linux.Seccomp.Architectures = []specs.Arch{arch}
	return nil
}

// withNoCapabilities empties every capability set.
func withNoCapabilities(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
	if s.Process == nil {
		s.Process = &specs.Process{}
	}
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: []string{}, Effective: []string{}, Inheritable: []string{},
		Permitted: []string{}, Ambient: []string{},
	}
	return nil
}

// withUnprivilegedUser runs the job as uid:gid with no supplementary
// groups, whatever the image's config says.
func withUnprivilegedUser(uid, gid uint32) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		s.Process.User = specs.User{UID: uid, GID: gid, AdditionalGids: []uint32{gid}}
		return nil
	}
}

// withMaskedPaths adds paths to the masked list (kept unique).
func withMaskedPaths(paths []string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		for _, p := range paths {
			if !slices.Contains(s.Linux.MaskedPaths, p) {
				s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, p)
			}
		}
		return nil
	}
}

// withResources sets the memory (no swap beyond it), CPU and pids limits.
func withResources(l Limits) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		r := s.Linux.Resources
		mem := l.MemoryBytes
		swappiness := uint64(0)
		r.Memory = &specs.LinuxMemory{Limit: &mem, Swap: &mem, Swappiness: &swappiness}
		period := uint64(100_000)
		quota := l.MilliCPU * int64(period) / 1000
		r.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
		pids := l.Pids
		r.Pids = &specs.LinuxPids{Limit: &pids}
		return nil
	}
}

// jobMounts are the host directories behind /input and /output. Empty
// means no such mount.
type jobMounts struct {
	Input  string // host directory, mounted read-only at /input
	Output string // host directory, mounted read-write at /output
}

// withJobMounts adds /output, /input and a size-capped /tmp. None of them
// allows setuid binaries or device nodes.
func withJobMounts(m jobMounts, l Limits) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		s.Mounts = slices.DeleteFunc(s.Mounts, func(x specs.Mount) bool {
			return x.Destination == TmpPath || x.Destination == InputPath || x.Destination == OutputPath
		})
		s.Mounts = append(s.Mounts, specs.Mount{
			Destination: TmpPath, Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "mode=1777", "size=" + strconv.FormatInt(l.TmpBytes, 10)},
		})
		if m.Output != "" {
			s.Mounts = append(s.Mounts, specs.Mount{
				Destination: OutputPath, Type: "bind", Source: m.Output,
				Options: []string{"rbind", "rw", "nosuid", "nodev"},
			})
		}
		if m.Input != "" {
			s.Mounts = append(s.Mounts, specs.Mount{
				Destination: InputPath, Type: "bind", Source: m.Input,
				Options: []string{"rbind", "ro", "nosuid", "nodev"},
			})
		}
		return nil
	}
}

// withRlimits keeps file descriptors bounded and core dumps off.
func withRlimits(l Limits) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		s.Process.Rlimits = []specs.POSIXRlimit{
			{Type: "RLIMIT_NOFILE", Hard: 4096, Soft: 4096},
			{Type: "RLIMIT_CORE", Hard: 0, Soft: 0},
			{Type: "RLIMIT_NPROC", Hard: uint64(l.Pids), Soft: uint64(l.Pids)},
		}
		return nil
	}
}

// GPUDevice names a GPU for CDI: "nvidia.com/gpu=0" or "nvidia.com/gpu=GPU-…".
func GPUDevice(indexOrUUID string) string {
	return fmt.Sprintf("nvidia.com/gpu=%s", indexOrUUID)
}
