//go:build !(linux && cgo)

package gpu

import (
	"context"
	"fmt"
	"runtime"
)

// NVML reads telemetry from the NVIDIA driver. This build has no NVML
// support (it needs Linux and cgo), so Open always reports unavailable.
type NVML struct{}

// Open reports ErrUnavailable: NVML needs a Linux build with cgo.
func Open() (*NVML, error) {
	return nil, fmt.Errorf("%w: this build for %s has no NVML support (needs linux with cgo)", ErrUnavailable, runtime.GOOS)
}

// Close does nothing.
func (n *NVML) Close() error { return nil }

// Snapshot reports ErrUnavailable.
func (n *NVML) Snapshot(context.Context) (Snapshot, error) {
	return Snapshot{}, fmt.Errorf("%w: no NVML support in this build", ErrUnavailable)
}
