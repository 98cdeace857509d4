package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sparegpu/spare/gpu"
)

// gpuNames picks CDI names for n NVIDIA GPUs (by index) from the CDI specs
// on this host. n == 0 means a CPU-only job.
func gpuNames(n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	specs, _ := gpu.ListCDISpecs(nil) // a broken spec of another vendor must not hide NVIDIA's
	names, err := gpu.GPUDevices(specs)
	if errors.Is(err, gpu.ErrNoCDISpec) {
		return nil, fmt.Errorf("--gpus %d but no CDI spec lists an NVIDIA GPU — run `spare doctor`; on an NVIDIA host generate one with: sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml", n)
	}
	// Index names ("nvidia.com/gpu=0") name each GPU once; UUID and "all"
	// names repeat them.
	var idx []int
	for _, name := range names {
		if i, err := strconv.Atoi(strings.TrimPrefix(name, gpu.CDIKind+"=")); err == nil && !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	if len(idx) < n {
		return nil, fmt.Errorf("--gpus %d but this host has %d NVIDIA GPU(s) in its CDI specs", n, len(idx))
	}
	out := make([]string, n)
	for i := range out {
		out[i] = gpu.CDIIndex(idx[i])
	}
	return out, nil
}
