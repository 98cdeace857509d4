package sandbox

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"tags.cncf.io/container-device-interface/pkg/cdi"
)

// ErrNoGPU means a job asked for GPUs this host cannot grant.
var ErrNoGPU = errors.New("no GPU available")

// GPUDevices returns CDI names for n NVIDIA GPUs from the specs in
// /etc/cdi and /var/run/cdi. n == 0 returns nil: a CPU-only job.
func GPUDevices(n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	names := CDIDevices("nvidia.com/gpu")
	// "nvidia.com/gpu=all" is not one device.
	names = slices.DeleteFunc(names, func(s string) bool { return strings.HasSuffix(s, "=all") })
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: --gpus %d but no CDI spec lists an NVIDIA GPU — run `spare doctor`; on an NVIDIA host generate one with: sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml", ErrNoGPU, n)
	}
	if len(names) < n {
		return nil, fmt.Errorf("%w: --gpus %d but this host has %d", ErrNoGPU, n, len(names))
	}
	return names[:n], nil
}

// CDIDevices lists the fully qualified CDI device names of a kind
// ("nvidia.com/gpu") found in the CDI spec directories, sorted.
func CDIDevices(kind string) []string {
	cache := cdi.GetDefaultCache()
	_ = cache.Refresh() // errors of one vendor's spec must not hide another's devices
	var out []string
	for _, d := range cache.ListDevices() {
		if strings.HasPrefix(d, kind+"=") {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}
