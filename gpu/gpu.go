// Package gpu reads NVIDIA GPU telemetry through NVML (go-nvml): devices,
// utilisation, VRAM, temperature, power and the processes using each GPU.
// It names GPUs for containers in CDI form and answers clearly, never by
// crashing, when no NVIDIA driver is present.
//
// Without a GPU, tests replay recorded telemetry (see Replay): the same
// Snapshot type, read from JSON lines.
package gpu

import (
	"errors"
	"time"
)

// ErrUnavailable is returned (wrapped, with the reason) when NVML cannot be
// used: no driver, no library, no device, or a build without cgo.
var ErrUnavailable = errors.New("NVIDIA GPU telemetry unavailable")

// ProcessKind tells how a process uses a GPU.
type ProcessKind string

// Process kinds reported by NVML.
const (
	Compute  ProcessKind = "compute"
	Graphics ProcessKind = "graphics"
)

// Process is one process holding a context on a GPU.
type Process struct {
	PID uint32 `json:"pid"`
	// UsedMemory is VRAM in bytes; 0 when the driver does not say (for
	// example inside a container without PID namespace access).
	UsedMemory uint64      `json:"used_memory,omitempty"`
	Kind       ProcessKind `json:"kind"`
	// Name is the executable name when known (replays, or read from /proc).
	Name string `json:"name,omitempty"`
}

// Device is one GPU as seen at a moment.
type Device struct {
	Index        int    `json:"index"`
	UUID         string `json:"uuid"`
	Name         string `json:"name"`
	MemoryTotal  uint64 `json:"memory_total"` // bytes
	MemoryUsed   uint64 `json:"memory_used"`  // bytes
	Utilization  int    `json:"utilization"`  // percent, GPU cores
	TemperatureC int    `json:"temperature_c"`
	PowerMW      uint32 `json:"power_mw"`       // current draw, milliwatts
	PowerLimitMW uint32 `json:"power_limit_mw"` // enforced limit, milliwatts
	// Processes using the GPU, compute and graphics, deduplicated by PID.
	Processes []Process `json:"processes,omitempty"`
}

// Snapshot is the telemetry of every device at one instant.
type Snapshot struct {
	At      time.Time `json:"at"`
	Devices []Device  `json:"devices"`
}

// Foreign returns the processes on d for which own reports false: GPU use
// by anything other than Spare's own containers, which counts as the owner
// being busy on that GPU. A nil own treats every process as foreign.
func Foreign(d Device, own func(pid uint32) bool) []Process {
	var out []Process
	for _, p := range d.Processes {
		if own == nil || !own(p.PID) {
			out = append(out, p)
		}
	}
	return out
}

// PIDSet returns a predicate for Foreign that reports the given PIDs as own.
func PIDSet(pids ...uint32) func(uint32) bool {
	m := make(map[uint32]bool, len(pids))
	for _, p := range pids {
		m[p] = true
	}
	return func(pid uint32) bool { return m[pid] }
}

// mergeProcesses joins compute and graphics lists, one entry per PID
// (a process with both contexts is reported as graphics: a game).
func mergeProcesses(compute, graphics []Process) []Process {
	seen := make(map[uint32]int, len(compute)+len(graphics))
	var out []Process
	for _, list := range [][]Process{compute, graphics} {
		for _, p := range list {
			if i, ok := seen[p.PID]; ok {
				out[i].Kind = Graphics
				if p.UsedMemory > out[i].UsedMemory {
					out[i].UsedMemory = p.UsedMemory
				}
				continue
			}
			seen[p.PID] = len(out)
			out = append(out, p)
		}
	}
	return out
}

var errNoDevices = errors.New("the driver reports no NVIDIA GPU")
