package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
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
		bad("--cpus %s: must be between 0.01 and this machine's %d", FormatMilliCPU(l.MilliCPU), h.CPUs)
	}
	if l.MemoryBytes < MinMemoryBytes || (h.MemoryBytes > 0 && l.MemoryBytes > h.MemoryBytes) {
		bad("--memory %s: must be between %s and this machine's %s", FormatBytes(l.MemoryBytes), FormatBytes(MinMemoryBytes), FormatBytes(h.MemoryBytes))
	}
	if l.Pids < 8 || l.Pids > MaxPids {
		bad("pids %d: must be between 8 and %d", l.Pids, MaxPids)
	}
	if l.OutputBytes < 1<<20 || l.OutputBytes > MaxOutputBytes {
		bad("output cap %s: must be between 1 MiB and %s", FormatBytes(l.OutputBytes), FormatBytes(MaxOutputBytes))
	}
	if l.TmpBytes < 1<<20 || l.TmpBytes > MaxTmpBytes {
		bad("tmp size %s: must be between 1 MiB and %s", FormatBytes(l.TmpBytes), FormatBytes(MaxTmpBytes))
	}
	if l.LogBytes < 1<<10 || l.LogBytes > MaxLogBytes {
		bad("log cap %s: must be between 1 KiB and %s", FormatBytes(l.LogBytes), FormatBytes(MaxLogBytes))
	}
	if l.Timeout < time.Second || l.Timeout > MaxTimeout {
		bad("--timeout %s: must be between 1s and %s", l.Timeout, MaxTimeout)
	}
	return errors.Join(errs...)
}

// ParseBytes reads a size such as "512M", "2G", "1.5GiB" or "1048576".
// Suffixes are binary (K = 1024).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	whole, frac, _ := strings.Cut(t, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || (frac != "" && mult == 1) {
		return 0, fmt.Errorf("size %q: want a number with an optional K, M, G or T suffix, e.g. 512M", s)
	}
	if w > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	n := w * mult
	if frac != "" {
		if len(frac) > 3 {
			frac = frac[:3]
		}
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("size %q: bad fraction", s)
		}
		for i := len(frac); i < 3; i++ {
			f *= 10
		}
		n += f * mult / 1000
	}
	return n, nil
}

// ParseMilliCPU reads a CPU count such as "2" or "0.5" as thousandths.
func ParseMilliCPU(s string) (int64, error) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 1<<20 || len(frac) > 3 {
		return 0, fmt.Errorf("cpus %q: want a number of cores such as 2 or 0.5", s)
	}
	n := w * 1000
	if frac != "" {
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("cpus %q: want a number of cores such as 2 or 0.5", s)
		}
		for i := len(frac); i < 3; i++ {
			f *= 10
		}
		n += f
	}
	return n, nil
}

// FormatMilliCPU prints thousandths of a core as "1.5".
func FormatMilliCPU(m int64) string {
	s := strconv.FormatInt(m/1000, 10)
	if r := m % 1000; r != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", r), "0")
	}
	return s
}

// FormatBytes prints a size with a binary unit: "512 MiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div) // display only
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTP"[exp]) + "iB"
}
