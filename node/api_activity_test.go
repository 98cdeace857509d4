package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/sparegpu/spare/gpu"
)

// TestTelemetryHistory: readings every 2 s for two hours keep one sample
// per 10 s of the last hour; a device that stops reporting ages out; the
// device count is bounded.
func TestTelemetryHistory(t *testing.T) {
	var h telemetryHistory
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var now time.Time
	for i := 0; i < 3600; i++ { // two hours at telemetryEvery
		now = start.Add(time.Duration(i) * telemetryEvery)
		devs := []gpu.Device{{Index: 0, UUID: "GPU-a", Name: "A", MemoryTotal: 8 << 30, MemoryUsed: uint64(i), Utilization: i % 100, TemperatureC: 60, PowerMW: 90_000}}
		if i < 100 { // GPU-b stops reporting after 200 s
			devs = append(devs, gpu.Device{Index: 1, UUID: "GPU-b", Name: "B"})
		}
		h.add(gpu.Snapshot{At: now, Devices: devs})
	}
	tel := h.snapshot()
	if len(tel.Devices) != 1 || tel.Devices[0].UUID != "GPU-a" || tel.Devices[0].VRAMTotal != 8<<30 {
		t.Fatalf("devices %+v", tel.Devices)
	}
	s := tel.Devices[0].Samples
	if len(s) < 355 || len(s) > 361 {
		t.Fatalf("%d samples for an hour at 10 s", len(s))
	}
	last := s[len(s)-1].At
	if s[0].At.Before(last.Add(-TelemetryWindow)) || now.Sub(last) >= TelemetrySampleEvery {
		t.Fatalf("samples span %v..%v, want the hour before %v", s[0].At, s[len(s)-1].At, now)
	}
	for i := 1; i < len(s); i++ {
		if d := s[i].At.Sub(s[i-1].At); d < TelemetrySampleEvery-telemetryEvery {
			t.Fatalf("samples %v apart", d)
		}
	}
	if last := s[len(s)-1]; last.PowerMW != 90_000 || last.TempC != 60 || last.VRAMUsed < 3595 {
		t.Fatalf("last sample %+v", last)
	}

	var many telemetryHistory
	devs := make([]gpu.Device, 40)
	for i := range devs {
		devs[i] = gpu.Device{Index: i, UUID: fmt.Sprintf("GPU-%d", i)}
	}
	many.add(gpu.Snapshot{At: start, Devices: devs})
	if n := len(many.snapshot().Devices); n != maxTelemetryDevices {
		t.Fatalf("%d devices kept, want %d", n, maxTelemetryDevices)
	}
}
