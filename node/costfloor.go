package node

import (
	"runtime"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/settings"
)

// gpuRatedMW is a GPU's power assumed when it reports neither a power
// limit nor a reading: a gaming card's typical board power.
const gpuRatedMW = 300_000

// floorPower is the power the owner's "never work at a loss" floor
// counts, from a telemetry reading: a GPU at the highest of its enforced
// power limit and its draw (the most a job may make it burn; the largest
// GPU's, as a job may get any), and a CPU core at the CPU's rated package
// power shared by its cores (an estimate: RAPL counts the whole package,
// not what a job may add). Estimated says the machine's main figure is
// assumed: a GPU's where there is one, else the core's.
func floorPower(snap gpu.Snapshot, cores int) settings.Power {
	p := settings.Power{CoreMilliWatts: int64(cpuRatedMW / max(cores, 1)), Estimated: true}
	gpuEstimated, gpus := false, 0
	for _, d := range snap.Devices {
		if d.UUID == CPUDeviceUUID {
			continue
		}
		gpus++
		mw := int64(max(d.PowerLimitMW, d.PowerMW))
		if mw == 0 {
			mw, gpuEstimated = gpuRatedMW, true
		}
		if mw > p.GPUMilliWatts {
			p.GPUMilliWatts = mw
		}
	}
	if gpus > 0 {
		p.Estimated = gpuEstimated
	}
	return p
}

// noteFloorPower keeps the power of a telemetry reading and applies the
// floor when it changed.
func (d *Daemon) noteFloorPower(snap gpu.Snapshot) {
	p := floorPower(snap, runtime.NumCPU())
	d.mu.Lock()
	changed := p != d.power
	d.power = p
	d.mu.Unlock()
	if changed {
		d.applyCostFloor()
	}
}

// costFloor is the floor under the settings in force (false: none).
func (d *Daemon) costFloor() (market.Price, settings.Power, bool) {
	owner := d.ownerSettings()
	d.mu.Lock()
	p := d.power
	d.mu.Unlock()
	f, ok := settings.CostFloor(owner, p)
	return f, p, ok
}

// applyCostFloor gives the market the floor under the settings in force.
func (d *Daemon) applyCostFloor() {
	if d.cfg.Market == nil {
		return
	}
	f, _, _ := d.costFloor()
	d.cfg.Market.SetCostFloor(f)
}

// describeCostFloor is the floor as GET /v1/settings shows it (nil: off).
func (d *Daemon) describeCostFloor() *localapi.CostFloor {
	f, p, ok := d.costFloor()
	if !ok {
		return nil
	}
	return settings.DescribeFloor(f, p)
}
