package provider

import (
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/sandbox"
)

// Reserve is what the owner's machine keeps for itself: never offered to
// a job, whatever a requester asks. Zero fields take the defaults.
type Reserve struct {
	// Memory is kept back; zero: the larger of MinReserveMemory and a
	// quarter of the machine's memory.
	Memory market.ByteSize
	// CPUs is kept back; zero: one core (half of a single-core machine).
	CPUs market.MilliCPU
}

// MinReserveMemory is the least memory the default reserve keeps.
const MinReserveMemory = 2 << 30

// offer is what a machine of h may offer to jobs after the reserve r.
func offer(h sandbox.Host, r Reserve) (market.MilliCPU, market.ByteSize) {
	cpus := market.MilliCPU(h.CPUs) * 1000
	mem := market.ByteSize(h.MemoryBytes)
	if r.CPUs == 0 {
		r.CPUs = min(1000, cpus/2)
	}
	if r.Memory == 0 {
		r.Memory = max(MinReserveMemory, mem/4)
	}
	return cpus - min(cpus, r.CPUs), mem - min(mem, r.Memory)
}
