package node

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/settings"
)

// Energy: what each job burned, for the owner's net earnings (earned less
// electricity). GPUs are measured by NVML's power reading; the CPU, when
// a job runs on it, by the kernel's powercap (RAPL) package counters
// where they are readable. Where neither reads, the energy is estimated
// from the device's rated power and says so.
const (
	// maxEnergyGap is the longest gap between two readings that is
	// counted: a longer one (a suspend, a stalled reader) counts this long.
	maxEnergyGap = 30 * time.Second
	// cpuRatedMW is the CPU's power assumed when no counter reads: a
	// desktop processor's typical package power under load.
	cpuRatedMW = 65_000
	// maxEnergyTags bounds the wallet names of running jobs kept.
	maxEnergyTags = 256
	// PowercapRoot is where the kernel shows the RAPL counters.
	PowercapRoot = "/sys/class/powercap"
)

// JobEnergy is a job's energy so far.
type JobEnergy struct {
	// MilliJoules is the energy (3.6 million to the watt-hour).
	MilliJoules int64
	// Estimated says some of it was estimated from rated power rather
	// than measured.
	Estimated bool
}

// MilliWattHours is the energy in mWh.
func (e JobEnergy) MilliWattHours() int64 { return e.MilliJoules / 3600 }

// energyReading is one moment's power readings and who holds what.
type energyReading struct {
	At   time.Time
	GPUs []gpu.Device
	// CPU are the RAPL package counters (nil: none readable).
	CPU map[string]raplCounter
	// Holders maps each device UUID (CPUDeviceUUID for the CPU) to the
	// job holding it.
	Holders map[string]string
}

// energyMeter adds each job's energy up from successive readings: the
// power of each device a job holds, times the time since the previous
// reading (the trapezoid of the two readings for a measured GPU), and the
// CPU counters' rise, shared between the jobs on the CPU.
type energyMeter struct {
	mu   sync.Mutex
	prev *energyReading
	jobs map[string]JobEnergy
	tags map[string]string // job → the wallet's name for it
}

// tag names a job as the wallet's history does, for its energy record.
func (m *energyMeter) tag(job, wallet string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tags == nil || len(m.tags) >= maxEnergyTags { // jobs that never started leave theirs
		m.tags = map[string]string{}
	}
	m.tags[job] = wallet
}

// takeTag is a job's wallet name, forgotten.
func (m *energyMeter) takeTag(job string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tags[job]
	delete(m.tags, job)
	return t
}

func (m *energyMeter) sample(r energyReading) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.jobs == nil {
		m.jobs = map[string]JobEnergy{}
	}
	prev := m.prev
	m.prev = &r
	if prev == nil || !r.At.After(prev.At) {
		return
	}
	dt := min(r.At.Sub(prev.At), maxEnergyGap)
	ms := dt.Milliseconds()
	before := map[string]gpu.Device{}
	for _, d := range prev.GPUs {
		before[d.UUID] = d
	}
	cpuJobs := 0
	for uuid, job := range r.Holders {
		if uuid == CPUDeviceUUID && job != "" {
			cpuJobs++
		}
	}
	cpuRise, cpuOK := raplRise(prev.CPU, r.CPU)
	for _, d := range r.GPUs {
		job := r.Holders[d.UUID]
		if job == "" {
			continue
		}
		e := m.jobs[job]
		switch {
		case d.UUID == CPUDeviceUUID && cpuOK:
			e.MilliJoules += int64(cpuRise / 1000 / uint64(cpuJobs))
		case d.UUID == CPUDeviceUUID:
			e.MilliJoules += cpuRatedMW * ms / 1000 / int64(cpuJobs)
			e.Estimated = true
		case d.PowerMW > 0:
			p := int64(d.PowerMW)
			if b, ok := before[d.UUID]; ok && b.PowerMW > 0 {
				p = (p + int64(b.PowerMW)) / 2
			}
			e.MilliJoules += p * ms / 1000
		default: // no reading: the rated power at the utilisation
			e.MilliJoules += int64(d.PowerLimitMW) * int64(d.Utilization) / 100 * ms / 1000
			e.Estimated = true
		}
		m.jobs[job] = e
	}
}

// energy is a job's energy so far (false: none counted).
func (m *energyMeter) energy(job string) (JobEnergy, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.jobs[job]
	return e, ok
}

// forget drops an ended job.
func (m *energyMeter) forget(job string) {
	m.mu.Lock()
	delete(m.jobs, job)
	m.mu.Unlock()
}

// raplCounter is one package's energy counter, in µJ, and where it wraps.
type raplCounter struct{ uj, max uint64 }

// readRAPL reads the CPU packages' energy counters under root (the
// powercap directory): the top-level intel-rapl:N zones only, as their
// subzones (cores, uncore, DRAM) are parts of them. Nil when none reads
// (no RAPL, or not allowed: the counters are root's on recent kernels).
func readRAPL(root string) map[string]raplCounter {
	zones, _ := filepath.Glob(filepath.Join(root, "intel-rapl:*"))
	out := map[string]raplCounter{}
	for _, z := range zones {
		if strings.Count(filepath.Base(z), ":") != 1 {
			continue // a subzone
		}
		uj, err1 := readUint(filepath.Join(z, "energy_uj"))
		mx, err2 := readUint(filepath.Join(z, "max_energy_range_uj"))
		if err1 != nil || err2 != nil || mx == 0 || uj > mx {
			continue
		}
		out[filepath.Base(z)] = raplCounter{uj: uj, max: mx}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// raplRise is the energy the packages used between two readings, in µJ,
// counting a counter's wrap; false when the two do not cover the same
// packages.
func raplRise(prev, next map[string]raplCounter) (uint64, bool) {
	if prev == nil || next == nil || len(prev) != len(next) {
		return 0, false
	}
	var sum uint64
	for name, n := range next {
		p, ok := prev[name]
		if !ok || p.max != n.max {
			return 0, false
		}
		if n.uj >= p.uj {
			sum += n.uj - p.uj
		} else {
			sum += n.max - p.uj + n.uj
		}
	}
	return sum, true
}

// meterEnergy counts a telemetry reading toward the jobs running now.
func (d *Daemon) meterEnergy(snap gpu.Snapshot) {
	holders := map[string]string{}
	for _, dev := range d.gov.Status().Devices {
		if dev.Job != "" {
			holders[dev.UUID] = dev.Job
		}
	}
	r := energyReading{At: snap.At, GPUs: snap.Devices, Holders: holders}
	if holders[CPUDeviceUUID] != "" {
		r.CPU = readRAPL(d.cfg.PowercapRoot)
	}
	d.energy.sample(r)
}

// TagJobEnergy names a running job (its sandbox ID) as the wallet's
// history does (its agreement's ID, 0x…), so that its energy shows
// beside what it earned. The provider calls it as the job starts.
func (d *Daemon) TagJobEnergy(job, walletJob string) { d.energy.tag(job, walletJob) }

// recordEnergy keeps an ended job's energy in DATA/energy.jsonl.
func (d *Daemon) recordEnergy(job string, now time.Time) {
	tag := d.energy.takeTag(job)
	e, ok := d.energy.energy(job)
	if !ok {
		return
	}
	d.energy.forget(job)
	if err := d.energyLog.add(energyRecord{Job: job, Ended: now, MJ: e.MilliJoules, Estimated: e.Estimated, Wallet: tag}); err != nil {
		d.log.Warn("keeping the job's energy", "job", job, "err", err)
	}
}

// energyTotals is the electricity figures for the wallet's view.
func (d *Daemon) energyTotals(now time.Time) localapi.Energy {
	var running []JobEnergy
	seen := map[string]bool{}
	for _, dev := range d.gov.Status().Devices {
		if e, ok := d.energy.energy(dev.Job); dev.Job != "" && ok && !seen[dev.Job] {
			seen[dev.Job] = true
			running = append(running, e)
		}
	}
	tot, err := d.energyLog.totals(now, running)
	if err != nil {
		d.log.Warn("reading the energy log", "err", err)
	}
	// At the owner's electricity price, when one is set.
	owner := d.ownerSettings()
	today, ok1 := settings.ElectricityCost(owner, tot.TodayMWh)
	week, ok2 := settings.ElectricityCost(owner, tot.WeekMWh)
	month, ok3 := settings.ElectricityCost(owner, tot.MonthMWh)
	if ok1 && ok2 && ok3 {
		tot.Priced, tot.CostToday, tot.CostWeek, tot.CostMonth = true, today, week, month
	}
	if owner.Currency != "" && tot.Priced {
		tot.Currency = owner.Currency
		tot.LocalToday, _ = settings.ElectricityCostLocal(owner, tot.TodayMWh)
		tot.LocalWeek, _ = settings.ElectricityCostLocal(owner, tot.WeekMWh)
		tot.LocalMonth, _ = settings.ElectricityCostLocal(owner, tot.MonthMWh)
	}
	return tot
}

// jobsEnergy adds each job's energy to the wallet's history lines, and
// its electricity cost where the owner set a price.
func (d *Daemon) jobsEnergy(now time.Time, history []localapi.Activity) {
	byJob, err := d.energyLog.byWalletJob(now)
	if err != nil {
		d.log.Warn("reading the energy log", "err", err)
	}
	owner := d.ownerSettings()
	for i := range history {
		a := &history[i]
		e, ok := byJob[a.Agreement]
		if a.Kind != localapi.ActivityJob || a.Agreement == "" || !ok {
			continue
		}
		a.EnergyMWh, a.EnergyEstimated = e.MilliWattHours(), e.Estimated
		if cost, ok := settings.ElectricityCost(owner, a.EnergyMWh); ok {
			a.Priced, a.Electricity = true, cost
			if owner.Currency != "" {
				a.Currency = owner.Currency
				a.ElectricityLocal, _ = settings.ElectricityCostLocal(owner, a.EnergyMWh)
			}
		}
	}
}
