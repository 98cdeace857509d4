package gpu

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// CheckResult is what `spare doctor` prints for the GPU: one line of
// status and, when something is wrong, one line saying what to do.
type CheckResult struct {
	OK     bool   `json:"ok"`
	Status string `json:"status"`
	Fix    string `json:"fix,omitempty"`
}

func (r CheckResult) String() string {
	if r.Fix == "" {
		return r.Status
	}
	return r.Status + " — " + r.Fix
}

// Check opens NVML, lists the GPUs and looks for their CDI spec in
// cdiDirs (nil: DefaultCDIDirs). It never panics and never needs a GPU.
func Check(ctx context.Context, cdiDirs []string) CheckResult {
	n, err := Open()
	if err != nil {
		return CheckResult{Status: "no NVIDIA GPU: " + strings.TrimPrefix(err.Error(), ErrUnavailable.Error()+": "),
			Fix: fixFor(err)}
	}
	defer n.Close()
	s, err := n.Snapshot(ctx)
	if err != nil {
		return CheckResult{Status: "NVIDIA driver loaded but unreadable: " + err.Error(), Fix: "check `nvidia-smi`; reinstall the NVIDIA driver if it fails"}
	}
	return checkSnapshot(s, cdiDirs)
}

func checkSnapshot(s Snapshot, cdiDirs []string) CheckResult {
	if len(s.Devices) == 0 {
		return CheckResult{Status: errNoDevices.Error(), Fix: "check that the GPU is seated and `nvidia-smi` lists it"}
	}
	names := make([]string, 0, len(s.Devices))
	for _, d := range s.Devices {
		names = append(names, fmt.Sprintf("%d: %s (%d MiB)", d.Index, d.Name, d.MemoryTotal>>20))
	}
	status := fmt.Sprintf("%d NVIDIA GPU(s): %s", len(s.Devices), strings.Join(names, ", "))
	specs, _ := ListCDISpecs(cdiDirs)
	if _, err := GPUDevices(specs); err != nil {
		return CheckResult{Status: status + "; no CDI spec for nvidia.com/gpu",
			Fix: "run `sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml` (NVIDIA Container Toolkit)"}
	}
	return CheckResult{OK: true, Status: status}
}

func fixFor(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not found"):
		return "install the NVIDIA driver (it provides libnvidia-ml.so.1)"
	case strings.Contains(msg, "kernel driver"):
		return "load the driver (`sudo modprobe nvidia`) or reboot after installing it"
	case strings.Contains(msg, "permission"):
		return "run the node as root or a user allowed to open /dev/nvidia*"
	case strings.Contains(msg, "needs linux with cgo"):
		return "GPU work needs the Linux build of Spare"
	case errors.Is(err, ErrUnavailable):
		return "run `nvidia-smi`; install or repair the NVIDIA driver"
	}
	return ""
}
