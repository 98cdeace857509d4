package gpu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestForeign(t *testing.T) {
	d := Device{Processes: []Process{{PID: 1, Kind: Compute}, {PID: 2, Kind: Graphics}, {PID: 3, Kind: Compute}}}
	tests := []struct {
		name string
		own  func(uint32) bool
		want []uint32
	}{
		{"nil predicate: all foreign", nil, []uint32{1, 2, 3}},
		{"own containers excluded", PIDSet(1, 3), []uint32{2}},
		{"all own", PIDSet(1, 2, 3), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint32
			for _, p := range Foreign(d, tt.own) {
				got = append(got, p.PID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Foreign = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMergeProcessesPrefersGraphics(t *testing.T) {
	got := mergeProcesses(
		[]Process{{PID: 7, Kind: Compute, UsedMemory: 10}, {PID: 8, Kind: Compute}},
		[]Process{{PID: 7, Kind: Graphics, UsedMemory: 20}})
	want := []Process{{PID: 7, Kind: Graphics, UsedMemory: 20}, {PID: 8, Kind: Compute}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merge = %+v, want %+v", got, want)
	}
}

func TestCDIName(t *testing.T) {
	if got := CDIIndex(1); got != "nvidia.com/gpu=1" {
		t.Errorf("CDIIndex(1) = %q", got)
	}
	if got := CDIName("GPU-abc"); got != "nvidia.com/gpu=GPU-abc" {
		t.Errorf("CDIName = %q", got)
	}
}

func TestListCDISpecs(t *testing.T) {
	specs, err := ListCDISpecs([]string{"testdata/cdi/etc", "testdata/cdi/run", "testdata/cdi/missing"})
	if err == nil || !strings.Contains(err.Error(), "broken.yml") {
		t.Errorf("error = %v, want one naming broken.yml", err)
	}
	if len(specs) != 2 {
		t.Fatalf("got %d specs, want 2: %+v", len(specs), specs)
	}
	if specs[0].Kind != CDIKind || !reflect.DeepEqual(specs[0].Devices, []string{"0", "GPU-8f6c1b1e-2a7e-4c61-9a0e-6f3c2d1b0a01", "all"}) {
		t.Errorf("nvidia spec = %+v", specs[0])
	}
	if specs[1].Kind != "vendor.example/fpga" || !reflect.DeepEqual(specs[1].Devices, []string{"fpga0"}) {
		t.Errorf("json spec = %+v", specs[1])
	}
	names, err := GPUDevices(specs)
	if err != nil || names[0] != "nvidia.com/gpu=0" || len(names) != 3 {
		t.Errorf("GPUDevices = %v, %v", names, err)
	}
	if _, err := GPUDevices(specs[1:]); !errors.Is(err, ErrNoCDISpec) {
		t.Errorf("GPUDevices without nvidia spec: err = %v, want ErrNoCDISpec", err)
	}
}

func TestReplay(t *testing.T) {
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := LoadReplay("testdata/two-gpus-game.jsonl", start)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var n int
	for {
		s, err := r.Snapshot(ctx)
		if errors.Is(err, ErrReplayDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			if want := start.Add(20 * time.Second); !s.At.Equal(want) {
				t.Errorf("record 2 at %v, want %v", s.At, want)
			}
			f := Foreign(s.Devices[0], PIDSet(9000))
			if len(f) != 1 || f[0].PID != 4242 || f[0].Kind != Graphics {
				t.Errorf("foreign on GPU 0 at 20 s = %+v, want the game", f)
			}
		}
		n++
	}
	if n != 5 {
		t.Errorf("replayed %d records, want 5", n)
	}
}

func TestReplayRejectsBadInput(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field":  `{"t_ms":0,"devices":[],"extra":1}`,
		"time backwards": "{\"t_ms\":10,\"devices\":[]}\n{\"t_ms\":5,\"devices\":[]}",
		"not json":       `{`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadReplay(strings.NewReader(body), time.Now()); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestCheckSnapshot(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name    string
		snap    Snapshot
		dirs    []string
		ok      bool
		fixPart string
	}{
		{"no devices", Snapshot{}, []string{empty}, false, "nvidia-smi"},
		{"no CDI spec", Snapshot{Devices: []Device{{Name: "RTX", MemoryTotal: 8 << 30}}}, []string{empty}, false, "nvidia-ctk cdi generate"},
		{"ready", Snapshot{Devices: []Device{{Name: "RTX", MemoryTotal: 8 << 30}}}, []string{"testdata/cdi/etc"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkSnapshot(tt.snap, tt.dirs)
			if r.OK != tt.ok || !strings.Contains(r.Fix, tt.fixPart) || r.Status == "" {
				t.Fatalf("checkSnapshot = %+v", r)
			}
		})
	}
}

// hasDriver reports whether an NVIDIA driver library is installed.
func hasDriver() bool {
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/lib/aarch64-linux-gnu"} {
		if _, err := os.Stat(filepath.Join(dir, "libnvidia-ml.so.1")); err == nil {
			return true
		}
	}
	return false
}

// TestOpenWithoutDriver runs the real NVML path on a machine without an
// NVIDIA driver: it must answer ErrUnavailable with the reason, not crash.
func TestOpenWithoutDriver(t *testing.T) {
	if hasDriver() {
		t.Skip("an NVIDIA driver is installed; TestNVMLLive covers this machine")
	}
	n, err := Open()
	if err == nil {
		n.Close()
		t.Fatal("Open succeeded without a driver")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	t.Logf("Open: %v", err)
	r := Check(context.Background(), []string{t.TempDir()})
	if r.OK || r.Fix == "" || !strings.HasPrefix(r.Status, "no NVIDIA GPU") {
		t.Fatalf("Check = %+v", r)
	}
	t.Logf("doctor line: %s", r)
}

// TestNVMLLive reads real telemetry where a driver is installed (the GPU
// machine); elsewhere it skips.
func TestNVMLLive(t *testing.T) {
	if !hasDriver() {
		t.Skip("no NVIDIA driver on this machine")
	}
	n, err := Open()
	if err != nil {
		t.Fatalf("Open with a driver installed: %v", err)
	}
	defer n.Close()
	s, err := n.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Devices) == 0 {
		t.Fatal("no devices")
	}
	for _, d := range s.Devices {
		if d.UUID == "" || d.MemoryTotal == 0 {
			t.Errorf("device %d incomplete: %+v", d.Index, d)
		}
		t.Logf("GPU %d %s %s: VRAM %d/%d MiB, util %d%%, %d°C, %.1f/%.1f W, %d processes",
			d.Index, d.Name, d.UUID, d.MemoryUsed>>20, d.MemoryTotal>>20, d.Utilization, d.TemperatureC,
			float64(d.PowerMW)/1000, float64(d.PowerLimitMW)/1000, len(d.Processes))
	}
	t.Logf("doctor line: %s", Check(context.Background(), nil))
}
