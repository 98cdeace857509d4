//go:build linux && cgo

package gpu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// NVML reads telemetry from the NVIDIA driver. Create it with Open and
// release it with Close.
type NVML struct {
	mu     sync.Mutex
	lib    nvml.Interface
	closed bool
}

// Open loads libnvidia-ml.so.1 and initialises NVML. Without a driver it
// returns an error wrapping ErrUnavailable that says why.
func Open() (*NVML, error) {
	return openLibrary(nvml.New())
}

func openLibrary(lib nvml.Interface) (n *NVML, err error) {
	// go-nvml panics in a few corners when the library half-loads; turn
	// that into the same clean answer.
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("%w: loading NVML: %v", ErrUnavailable, r)
		}
	}()
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, initReason(ret))
	}
	return &NVML{lib: lib}, nil
}

// initReason turns an nvml.Init failure into a sentence. go-nvml reports a
// missing library as ERROR_LIBRARY_NOT_FOUND.
func initReason(ret nvml.Return) string {
	switch ret {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return "libnvidia-ml.so.1 not found (no NVIDIA driver installed)"
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return "the NVIDIA kernel driver is not loaded"
	case nvml.ERROR_NO_PERMISSION:
		return "no permission to talk to the NVIDIA driver"
	default:
		return "nvml.Init: " + errorString(ret)
	}
}

func errorString(ret nvml.Return) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("NVML error %d", int32(ret))
		}
	}()
	return nvml.ErrorString(ret)
}

// Close shuts NVML down. It is safe to call more than once.
func (n *NVML) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	if ret := n.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("nvml shutdown: %s", errorString(ret))
	}
	return nil
}

// Snapshot reads every device. A field the driver cannot report stays zero;
// only losing the device list is an error.
func (n *NVML) Snapshot(ctx context.Context) (Snapshot, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return Snapshot{}, fmt.Errorf("%w: NVML closed", ErrUnavailable)
	}
	count, ret := n.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return Snapshot{}, fmt.Errorf("%w: counting devices: %s", ErrUnavailable, errorString(ret))
	}
	s := Snapshot{At: time.Now()}
	for i := 0; i < count; i++ {
		if err := ctx.Err(); err != nil {
			return Snapshot{}, err
		}
		h, ret := n.lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return Snapshot{}, fmt.Errorf("device %d: %s", i, errorString(ret))
		}
		s.Devices = append(s.Devices, readDevice(i, h))
	}
	return s, nil
}

func readDevice(i int, h nvml.Device) Device {
	d := Device{Index: i}
	if v, ret := h.GetUUID(); ret == nvml.SUCCESS {
		d.UUID = v
	}
	if v, ret := h.GetName(); ret == nvml.SUCCESS {
		d.Name = v
	}
	if m, ret := h.GetMemoryInfo(); ret == nvml.SUCCESS {
		d.MemoryTotal, d.MemoryUsed = m.Total, m.Used
	}
	if u, ret := h.GetUtilizationRates(); ret == nvml.SUCCESS {
		d.Utilization = int(u.Gpu)
	}
	if t, ret := h.GetTemperature(nvml.TEMPERATURE_GPU); ret == nvml.SUCCESS {
		d.TemperatureC = int(t)
	}
	if p, ret := h.GetPowerUsage(); ret == nvml.SUCCESS {
		d.PowerMW = p
	}
	if p, ret := h.GetEnforcedPowerLimit(); ret == nvml.SUCCESS {
		d.PowerLimitMW = p
	}
	compute, _ := h.GetComputeRunningProcesses()
	graphics, _ := h.GetGraphicsRunningProcesses()
	d.Processes = mergeProcesses(convert(compute, Compute), convert(graphics, Graphics))
	return d
}

func convert(in []nvml.ProcessInfo, kind ProcessKind) []Process {
	out := make([]Process, 0, len(in))
	for _, p := range in {
		out = append(out, Process{PID: p.Pid, UsedMemory: p.UsedGpuMemory, Kind: kind, Name: procName(p.Pid)})
	}
	return out
}

// procName reads the executable name of pid from /proc; "" when hidden.
func procName(pid uint32) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.FormatUint(uint64(pid), 10), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
