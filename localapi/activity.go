package localapi

import (
	"context"
	"net/http"
	"time"
)

// Telemetry is GET /v1/telemetry: each device's readings over the last
// hour, oldest first, one sample per Interval at most.
type Telemetry struct {
	// IntervalS is the spacing of samples in seconds.
	IntervalS int            `json:"interval_s"`
	Devices   []DeviceSeries `json:"devices"`
}

// DeviceSeries is one device's history.
type DeviceSeries struct {
	Index int    `json:"index"`
	UUID  string `json:"uuid"`
	Name  string `json:"name"`
	// VRAMTotal is the device's memory in bytes (0: not a GPU).
	VRAMTotal uint64   `json:"vram_total_bytes"`
	Samples   []Sample `json:"samples"`
}

// Sample is one reading of a device.
type Sample struct {
	At time.Time `json:"at"`
	// Util is the GPU cores' utilisation in percent.
	Util     int    `json:"util_pct"`
	VRAMUsed uint64 `json:"vram_used_bytes"`
	TempC    int    `json:"temp_c"`
	PowerMW  uint32 `json:"power_mw"`
}

// CurrentJob is GET /v1/job: the job running or frozen now, if any.
type CurrentJob struct {
	Job *Job `json:"job"`
}

// Job states.
const (
	JobRunning = "running"
	JobFrozen  = "frozen"
)

// Job is the job the machine works on.
type Job struct {
	ID string `json:"id"`
	// Kind is "render" or "inference" ("" when the job names none).
	Kind string `json:"kind"`
	// Requester is the requester's peer ID, shortened for people.
	Requester string    `json:"requester"`
	Started   time.Time `json:"started"`
	// RunningS is how long the job has been on this machine, in seconds.
	RunningS int64 `json:"running_s"`
	// Earned is what its vouchers paid so far.
	Earned Amount `json:"earned"`
	// State is JobRunning or JobFrozen.
	State       string    `json:"state"`
	FrozenSince time.Time `json:"frozen_since,omitzero"`
	// EnergyMWh is the electricity the job used so far, in milliwatt-
	// hours: measured (NVML, RAPL) unless EnergyEstimated.
	EnergyMWh       int64 `json:"energy_mwh"`
	EnergyEstimated bool  `json:"energy_estimated,omitempty"`
}

// Telemetry returns the last hour of GPU readings.
func (c *Client) Telemetry(ctx context.Context) (Telemetry, error) {
	var t Telemetry
	err := c.do(ctx, http.MethodGet, "/v1/telemetry", nil, &t)
	return t, err
}

// Job returns the current job (nil when none).
func (c *Client) Job(ctx context.Context) (*Job, error) {
	var j CurrentJob
	err := c.do(ctx, http.MethodGet, "/v1/job", nil, &j)
	return j.Job, err
}
