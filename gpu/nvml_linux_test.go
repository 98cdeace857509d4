//go:build linux && cgo

package gpu

import (
	"context"
	"errors"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// TestSnapshotFromMockServer reads a simulated DGX H100 through the same
// code that reads a real driver.
func TestSnapshotFromMockServer(t *testing.T) {
	srv := dgxh100.New()
	for i, d := range srv.Devices {
		dev := d.(*server.Device)
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{Gpu: 42}, nvml.SUCCESS }
		dev.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 55, nvml.SUCCESS }
		dev.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 300000, nvml.SUCCESS }
		dev.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 700000, nvml.SUCCESS }
		dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return []nvml.ProcessInfo{{Pid: uint32(1000 + i), UsedGpuMemory: 1 << 30}}, nvml.SUCCESS
		}
		dev.GetGraphicsRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			if i == 0 {
				return []nvml.ProcessInfo{{Pid: 4242}}, nvml.SUCCESS
			}
			return nil, nvml.ERROR_NOT_SUPPORTED
		}
	}
	n, err := openLibrary(srv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Devices) != 8 {
		t.Fatalf("%d devices, want 8", len(s.Devices))
	}
	d0 := s.Devices[0]
	if d0.UUID == "" || d0.Name == "" || d0.MemoryTotal == 0 || d0.Utilization != 42 || d0.TemperatureC != 55 ||
		d0.PowerMW != 300000 || d0.PowerLimitMW != 700000 {
		t.Errorf("device 0 = %+v", d0)
	}
	if len(d0.Processes) != 2 || d0.Processes[1].PID != 4242 || d0.Processes[1].Kind != Graphics {
		t.Errorf("device 0 processes = %+v", d0.Processes)
	}
	if f := Foreign(s.Devices[1], PIDSet(1001)); len(f) != 0 {
		t.Errorf("device 1 foreign = %+v, want none", f)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Snapshot(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Snapshot after Close: %v", err)
	}
}

func TestOpenInitFailure(t *testing.T) {
	lib := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_DRIVER_NOT_LOADED }}
	_, err := openLibrary(lib)
	if !errors.Is(err, ErrUnavailable) || fixFor(err) == "" {
		t.Fatalf("err = %v (fix %q)", err, fixFor(err))
	}
}
