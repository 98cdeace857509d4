package market

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/sparegpu/spare/wallet"
)

// Money is in the payment token's smallest unit (6 decimals: 1 = 0.000001
// currency units), always unsigned integers; no floating point anywhere.

// ErrOverflow reports a price or cost that does not fit in 64 bits.
var ErrOverflow = errors.New("amount overflows")

// Price is a provider's price per second per resource: per granted GPU,
// and per whole CPU core (a job granted 500 millicores pays half of
// PerCPUSecond). It matches the wallet Agreement's two price fields.
type Price struct {
	PerGPUSecond uint64 `json:"per_gpu_second"`
	PerCPUSecond uint64 `json:"per_cpu_second"` // per core
}

// Rate is what one second of a job granted gpus and cpus costs, rounded UP
// to a whole unit: it is compared with a requester's max price, so the
// rounding never lets a provider charge more than the cap allows.
func (p Price) Rate(gpus uint32, cpus MilliCPU) (uint64, error) {
	g, err := mul(uint64(gpus), p.PerGPUSecond)
	if err != nil {
		return 0, err
	}
	c, err := mul(uint64(cpus), p.PerCPUSecond)
	if err != nil {
		return 0, err
	}
	return add(g, ceilDiv(c, 1000))
}

// Cost is what metered counters cost: gpuMs is GPU-milliseconds (summed
// over GPUs) and cpuMs core-milliseconds. It is the wallet's MeteredCost,
// computed exactly in integers and rounded DOWN once, at the end:
//
//	cost = floor((gpuMs·PerGPUSecond + cpuMs·PerCPUSecond) / 1000)
//
// the formula the wallet's Agreement.Cost uses too, so a receipt's
// cumulative amount is the same number on both sides. Apply it to
// cumulative counters, not per interval, so rounding never accumulates.
func (p Price) Cost(gpuMs, cpuMs uint64) (uint64, error) {
	c, ok := wallet.MeteredCost(gpuMs, cpuMs, p.PerGPUSecond, p.PerCPUSecond)
	if !ok {
		return 0, fmt.Errorf("cost of %d GPU-ms and %d CPU-ms: %w", gpuMs, cpuMs, ErrOverflow)
	}
	return c, nil
}

// CostFor is the cost of seconds of full use of gpus and cpus: the counters
// a provider would meter for that time, priced with Cost.
func (p Price) CostFor(gpus uint32, cpus MilliCPU, seconds uint64) (uint64, error) {
	gpuMs, err := mul(uint64(gpus), seconds*1000)
	if err != nil || seconds > 1<<53 {
		return 0, fmt.Errorf("%d seconds: %w", seconds, ErrOverflow)
	}
	cpuMs, err := mul(uint64(cpus), seconds) // millicores × s = core-ms
	if err != nil {
		return 0, err
	}
	return p.Cost(gpuMs, cpuMs)
}

func mul(a, b uint64) (uint64, error) {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return 0, ErrOverflow
	}
	return lo, nil
}

func add(a, b uint64) (uint64, error) {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return 0, ErrOverflow
	}
	return s, nil
}

func ceilDiv(a, b uint64) uint64 { return a/b + min(a%b, 1) }
