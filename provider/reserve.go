package provider

import (
	"fmt"
	"math"

	"github.com/shirou/gopsutil/v4/disk"
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
	// Disk is the free space on the data directory's disk that jobs'
	// images, inputs and outputs never take; zero: the larger of
	// MinReserveDisk and a tenth of the disk.
	Disk market.ByteSize
}

// MinReserveDisk is the least free disk the default reserve keeps.
const MinReserveDisk = 5 << 30

// diskOffer is the disk a job may take on the disk holding dir: its free
// space less the reserve r (zero: the default). Unreadable: none.
func diskOffer(dir string, r market.ByteSize) (market.ByteSize, error) {
	u, err := disk.Usage(dir)
	if err != nil {
		return 0, fmt.Errorf("reading the free space of %s: %w", dir, err)
	}
	return diskLeft(u.Free, u.Total, r), nil
}

// diskLeft is free less the reserve r of a disk of total bytes.
func diskLeft(free, total uint64, r market.ByteSize) market.ByteSize {
	if r == 0 {
		r = max(MinReserveDisk, market.ByteSize(min(total/10, math.MaxInt64)))
	}
	f := market.ByteSize(min(free, math.MaxInt64))
	return f - min(f, r)
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
