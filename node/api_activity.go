package node

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
)

// Telemetry history kept for GET /v1/telemetry.
const (
	// TelemetryWindow is how far back the history reaches.
	TelemetryWindow = time.Hour
	// TelemetrySampleEvery is the spacing of kept samples (readings come
	// every telemetryEvery; the rest are dropped).
	TelemetrySampleEvery = 10 * time.Second
	// maxTelemetryDevices bounds the devices kept: 16 hours of samples
	// stay well inside the client's 1 MiB response limit.
	maxTelemetryDevices = 16
)

// telemetryHistory keeps the last TelemetryWindow of readings per device.
type telemetryHistory struct {
	mu      sync.Mutex
	last    time.Time
	latest  gpu.Snapshot // the last reading, for /metrics
	devices []localapi.DeviceSeries
}

// latestSnapshot is the last reading (none before the first).
func (h *telemetryHistory) latestSnapshot() gpu.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.latest
}

// add records a snapshot, at most one per TelemetrySampleEvery.
func (h *telemetryHistory) add(s gpu.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = s
	if !h.last.IsZero() && s.At.Sub(h.last) < TelemetrySampleEvery-telemetryEvery/2 {
		return
	}
	h.last = s.At
	cut := s.At.Add(-TelemetryWindow)
	for _, dev := range s.Devices {
		i := h.find(dev.UUID)
		if i < 0 {
			if len(h.devices) >= maxTelemetryDevices {
				continue
			}
			h.devices = append(h.devices, localapi.DeviceSeries{UUID: dev.UUID})
			i = len(h.devices) - 1
		}
		ds := &h.devices[i]
		ds.Index, ds.Name, ds.VRAMTotal = dev.Index, dev.Name, dev.MemoryTotal
		ds.Samples = append(ds.Samples, localapi.Sample{At: s.At, Util: dev.Utilization, VRAMUsed: dev.MemoryUsed,
			TempC: dev.TemperatureC, PowerMW: dev.PowerMW})
	}
	// Drop old samples and devices that no longer report.
	out := h.devices[:0]
	for _, ds := range h.devices {
		n := 0
		for n < len(ds.Samples) && ds.Samples[n].At.Before(cut) {
			n++
		}
		ds.Samples = append(ds.Samples[:0], ds.Samples[n:]...)
		if len(ds.Samples) > 0 {
			out = append(out, ds)
		}
	}
	h.devices = out
}

func (h *telemetryHistory) find(uuid string) int {
	for i, d := range h.devices {
		if d.UUID == uuid {
			return i
		}
	}
	return -1
}

// snapshot copies the history for a response.
func (h *telemetryHistory) snapshot() localapi.Telemetry {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := localapi.Telemetry{IntervalS: int(TelemetrySampleEvery / time.Second), Devices: make([]localapi.DeviceSeries, 0, len(h.devices))}
	for _, ds := range h.devices {
		ds.Samples = append([]localapi.Sample(nil), ds.Samples...)
		t.Devices = append(t.Devices, ds)
	}
	return t
}

// jobStarted and jobEnded keep when each job started, for the current job.
func (d *Daemon) jobStarted(id string, at time.Time) {
	d.mu.Lock()
	d.jobStarts[id] = at
	d.mu.Unlock()
	d.emit(localapi.EventJob)
}

func (d *Daemon) jobEnded(id string) {
	d.recordEnergy(id, time.Now())
	d.mu.Lock()
	delete(d.jobStarts, id)
	d.mu.Unlock()
	d.emit(localapi.EventJob)
}

// currentJob is the job Running or Frozen now, if any.
func (d *Daemon) currentJob(ctx context.Context, now time.Time) *localapi.Job {
	st := d.gov.Status().Phase
	if st.Job == "" || !st.State.Word().Working() {
		return nil
	}
	j := localapi.Job{ID: st.Job, State: localapi.JobRunning}
	if d.cfg.Market != nil {
		if info, ok := d.cfg.Market.DescribeJob(ctx, st.Job); ok {
			j.Kind, j.Requester, j.Earned = info.Kind, info.Requester, info.Earned
		}
	}
	d.mu.Lock()
	j.Started = d.jobStarts[st.Job]
	d.mu.Unlock()
	if !j.Started.IsZero() {
		j.RunningS = int64(now.Sub(j.Started) / time.Second)
	}
	if st.State == governor.Frozen {
		j.State, j.FrozenSince = localapi.JobFrozen, st.Since
	}
	if e, ok := d.energy.energy(st.Job); ok {
		j.EnergyMWh, j.EnergyEstimated = e.MilliWattHours(), e.Estimated
	}
	return &j
}

func (d *Daemon) serveJob(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, localapi.CurrentJob{Job: d.currentJob(r.Context(), time.Now())})
}

func (d *Daemon) serveTelemetry(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, d.tele.snapshot())
}

// emit sends the status to the event stream's subscribers with event set
// (something besides the governor's state changed).
func (d *Daemon) emit(event localapi.Event) {
	s := d.Status()
	s.Event = event
	d.mu.Lock()
	for ch := range d.subs {
		select {
		case ch <- s:
		default: // a slow reader misses it, never blocks the daemon
		}
	}
	d.mu.Unlock()
}
