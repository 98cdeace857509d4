package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/sparegpu/spare/internal/units"
)

// ErrLimit marks a job that asked for more than this host allows, or a
// job that ran past one of its limits.
var ErrLimit = errors.New("limit")

// Limits bound what a job may use. The zero value of each field means the
// default documented beside it; a job can only ask for less than the host's
// ceiling (see Validate).
type Limits struct {
	// MilliCPU is the CPU time per second in thousandths of a core.
	// Zero: 1000 (one core).
	MilliCPU int64
	// MemoryBytes caps RAM (and RAM+swap). Zero: 2 GiB.
	MemoryBytes int64
	// Pids caps the number of processes and threads. Zero: 256.
	Pids int64
	// OutputBytes caps what the job may write under /output. Zero: 1 GiB.
	OutputBytes int64
	// TmpBytes caps /tmp inside the job. Zero: 256 MiB.
	TmpBytes int64
	// LogBytes caps the stdout+stderr kept. Zero: 1 MiB.
	LogBytes int64
	// Timeout is the wall-clock limit. Zero: 1 hour.
	Timeout time.Duration
}

// Defaults and ceilings. A ceiling is what Validate accepts at most.
const (
	DefaultMilliCPU    = 1000
	DefaultMemoryBytes = 2 << 30
	DefaultPids        = 256
	DefaultOutputBytes = 1 << 30
	DefaultTmpBytes    = 256 << 20
	DefaultLogBytes    = 1 << 20
	DefaultTimeout     = time.Hour

	MinMemoryBytes = 16 << 20
	MaxPids        = 32768
	MaxOutputBytes = 64 << 30
	MaxTmpBytes    = 8 << 30
	MaxLogBytes    = 64 << 20
	MaxTimeout     = 7 * 24 * time.Hour
)

// DefaultLimits are the limits of a job that asks for nothing.
var DefaultLimits = Limits{
	MilliCPU: DefaultMilliCPU, MemoryBytes: DefaultMemoryBytes, Pids: DefaultPids,
	OutputBytes: DefaultOutputBytes, TmpBytes: DefaultTmpBytes, LogBytes: DefaultLogBytes,
	Timeout: DefaultTimeout,
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits { return mergeLimits(l, DefaultLimits) }

// Host describes the ceilings of this machine.
type Host struct {
	CPUs        int
	MemoryBytes int64
}

// LocalHost reads this machine's CPU count and memory.
func LocalHost() Host {
	return Host{CPUs: runtime.NumCPU(), MemoryBytes: totalMemory()}
}

// Validate checks l (after defaults) against the host's ceilings. Errors
// wrap ErrLimit and name the flag and the limit.
func (l Limits) Validate(h Host) error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrLimit}, a...)...))
	}
	if l.MilliCPU < 10 || (h.CPUs > 0 && l.MilliCPU > int64(h.CPUs)*1000) {
		bad("--cpus %s: must be between 0.01 and this machine's %d", units.FormatMilliCPU(l.MilliCPU), h.CPUs)
	}
	if l.MemoryBytes < MinMemoryBytes || (h.MemoryBytes > 0 && l.MemoryBytes > h.MemoryBytes) {
		bad("--memory %s: must be between %s and this machine's %s", units.FormatBytes(l.MemoryBytes), units.FormatBytes(MinMemoryBytes), units.FormatBytes(h.MemoryBytes))
	}
	if l.Pids < 8 || l.Pids > MaxPids {
		bad("pids %d: must be between 8 and %d", l.Pids, MaxPids)
	}
	if l.OutputBytes < 1<<20 || l.OutputBytes > MaxOutputBytes {
		bad("output cap %s: must be between 1 MiB and %s", units.FormatBytes(l.OutputBytes), units.FormatBytes(MaxOutputBytes))
	}
	if l.TmpBytes < 1<<20 || l.TmpBytes > MaxTmpBytes {
		bad("tmp size %s: must be between 1 MiB and %s", units.FormatBytes(l.TmpBytes), units.FormatBytes(MaxTmpBytes))
	}
	if l.LogBytes < 1<<10 || l.LogBytes > MaxLogBytes {
		bad("log cap %s: must be between 1 KiB and %s", units.FormatBytes(l.LogBytes), units.FormatBytes(MaxLogBytes))
	}
	if l.Timeout < time.Second || l.Timeout > MaxTimeout {
		bad("--timeout %s: must be between 1s and %s", l.Timeout, MaxTimeout)
	}
	return errors.Join(errs...)
}
