package governor

import (
	"fmt"
	"slices"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

// Job is a job the node runs now, as the governor needs to know it.
type Job struct {
	ID string `json:"id"`
	// GPUs are the UUIDs of the GPUs the job holds.
	GPUs []string `json:"gpus"`
	// PIDs are the job's host process IDs: its own GPU processes, which
	// are not foreign.
	PIDs []uint32 `json:"pids,omitempty"`
}

// Inputs are everything Decide reads. Each reading carries its own time.
type Inputs struct {
	// Presence is the latest report; zero At means none yet.
	Presence presence.Report
	// Power is the latest power reading; Known false means no information
	// (treated as AC without a battery).
	Power presence.Power
	// GPU is the latest telemetry; zero At means none yet.
	GPU gpu.Snapshot
	// Jobs are the jobs running or frozen now.
	Jobs []Job
	// Pause is the owner's pause command.
	Pause Pause
	// Off, when not empty, switches the governor off and says why
	// ("no NVIDIA GPU: …", "switched off in settings").
	Off string
	// Runtime, when not empty, says the container runtime stopped
	// answering and is the command that starts it again: no job can run,
	// so none is offered, until it answers.
	Runtime string
	// Draining is set while the node stops: jobs end, ads go.
	Draining bool
	// Own reports GPU processes that belong to Spare beyond Jobs' PIDs
	// (for example by cgroup). Nil: only Jobs' PIDs.
	Own func(pid uint32) bool
}

// ActionKind is what the driver must do.
type ActionKind int

// Actions, carried out in the order Decide returns them.
const (
	ActFreeze   ActionKind = iota + 1 // freeze Job's processes (cgroup freezer)
	ActThaw                           // thaw Job
	ActEnd                            // end Job, free its VRAM, send the final receipt
	ActNotify                         // tell Job's requester (preemption notice)
	ActPublish                        // publish the capacity ad for GPUs
	ActWithdraw                       // withdraw the capacity ad
)

var actionNames = [...]string{"", "freeze", "thaw", "end", "notify", "publish", "withdraw"}

func (k ActionKind) String() string {
	if int(k) < len(actionNames) && k > 0 {
		return actionNames[k]
	}
	return fmt.Sprintf("ActionKind(%d)", int(k))
}

// Action is one step for the driver.
type Action struct {
	Kind ActionKind
	Job  string
	// GPUs are the UUIDs to advertise (ActPublish).
	GPUs []string
	// Reason says why (freeze, end, notify).
	Reason Reason
	// EndsAt is when a frozen job will be ended (ActNotify after a freeze).
	EndsAt time.Time
}

func (a Action) String() string {
	switch a.Kind {
	case ActPublish:
		return fmt.Sprintf("publish%v", a.GPUs)
	case ActWithdraw:
		return "withdraw"
	}
	return fmt.Sprintf("%s(%s, %s)", a.Kind, a.Job, a.Reason.Code)
}

// DeviceStatus is one GPU's standing.
type DeviceStatus struct {
	Index  int    `json:"index"`
	UUID   string `json:"uuid"`
	Name   string `json:"name"`
	Usable bool   `json:"usable"`
	Reason Reason `json:"reason,omitzero"`
	Job    string `json:"job,omitempty"`
}

// Status is Decide's result and its memory for the next call.
type Status struct {
	Phase   Phase          `json:"state"`
	Devices []DeviceStatus `json:"devices"`
	// Advertised are the UUIDs in the published ad (empty: none).
	Advertised []string `json:"advertised,omitempty"`
	// Wake is when Decide must run again even if no input changes
	// (zero: only on new input).
	Wake time.Time `json:"wake,omitzero"`

	jobs map[string]jobMem
	hot  map[string]bool
}

type jobMem struct {
	frozen  bool
	since   time.Time // frozen since
	reason  Reason
	ended   time.Time // when End was asked (zero: not yet)
	forgive time.Time // input up to this moment no longer freezes the job
}

// hold is how strongly a condition stops work.
type hold int

const (
	holdNone   hold = iota
	holdFreeze      // freeze now; end after a grace unless it lifts
	holdEnd         // end now
)

type verdict struct {
	hold   hold
	reason Reason
}

func (v verdict) stronger(o verdict) verdict {
	if o.hold > v.hold {
		return o
	}
	return v
}

// Decide computes the governor's next status and the actions that get
// there from prev (the previous result; the zero Status to begin), the
// inputs, the clock reading now and the settings. It is pure: same
// arguments, same answer.
func Decide(prev Status, in Inputs, now time.Time, set Settings) (Status, []Action) {
	set = set.WithDefaults()
	next := Status{jobs: map[string]jobMem{}, hot: map[string]bool{}}
	var acts []Action
	wake := waker{now: now}

	machine := machineVerdict(in, now, set, &wake)

	// Per-GPU verdicts.
	own := ownPIDs(in)
	gameGPUs, gameSomewhere := attributeGame(in, now, set)
	fresh := !in.GPU.At.IsZero() && now.Sub(in.GPU.At) < set.TelemetrySilence
	if fresh {
		wake.at(in.GPU.At.Add(set.TelemetrySilence))
	}
	devVerdict := map[string]verdict{}
	for _, d := range in.GPU.Devices {
		v := machine
		if !fresh {
			v = v.stronger(verdict{holdFreeze, Reason{Code: localapi.ReasonNoGPU, At: in.GPU.At, Detail: "no recent GPU readings"}})
		} else {
			v = v.stronger(deviceVerdict(d, prev.hot[d.UUID], own, gameGPUs, in.Presence.Game, set, next.hot))
			if gameSomewhere {
				// A game not yet seen on any GPU may be about to use this one.
				v = v.stronger(verdict{holdFreeze, Reason{Code: localapi.ReasonGame, Detail: in.Presence.Game}})
			}
		}
		devVerdict[d.UUID] = v
		next.Devices = append(next.Devices, DeviceStatus{Index: d.Index, UUID: d.UUID, Name: d.Name,
			Usable: v.hold == holdNone, Reason: v.reason})
	}

	// Jobs.
	busy := map[string]string{}
	for _, j := range in.Jobs {
		v := machine
		for _, u := range j.GPUs {
			dv, ok := devVerdict[u]
			if !ok {
				dv = verdict{holdFreeze, Reason{Code: localapi.ReasonNoGPU, Detail: "GPU " + u + " is missing"}}
			}
			v = v.stronger(dv)
			busy[u] = j.ID
		}
		m := prev.jobs[j.ID]
		// A touch forgiven after a quiet grace does not freeze again.
		if v.hold == holdFreeze && v.reason.Code == localapi.ReasonActive && !m.forgive.IsZero() &&
			!in.Presence.LastInput().After(m.forgive) && machineOnlyActive(machine, v) {
			v = verdict{}
		}
		m, acts = stepJob(j, m, v, in, now, set, &wake, acts)
		next.jobs[j.ID] = m
	}
	for i := range next.Devices {
		next.Devices[i].Job = busy[next.Devices[i].UUID]
	}

	// The capacity ad lists usable GPUs without a job.
	var free []string
	for _, d := range next.Devices {
		if d.Usable && d.Job == "" {
			free = append(free, d.UUID)
		}
	}
	switch {
	case len(free) == 0 && len(prev.Advertised) > 0:
		acts = append(acts, Action{Kind: ActWithdraw})
	case len(free) > 0 && !slices.Equal(free, prev.Advertised):
		acts = append(acts, Action{Kind: ActPublish, GPUs: free})
	}
	next.Advertised = free

	next.Phase = topState(in, next, machine, free, set)
	next.Wake = wake.next
	return next, acts
}

func machineOnlyActive(machine, v verdict) bool {
	return machine.hold == holdFreeze && machine.reason.Code == localapi.ReasonActive && v.reason.Code == localapi.ReasonActive
}

// stepJob moves one job toward its verdict.
func stepJob(j Job, m jobMem, v verdict, in Inputs, now time.Time, set Settings, wake *waker, acts []Action) (jobMem, []Action) {
	if !m.ended.IsZero() {
		// Asked to end already; ask again if it lingers.
		if retry := m.ended.Add(set.RetryEnd); !now.Before(retry) {
			acts = append(acts, Action{Kind: ActEnd, Job: j.ID, Reason: m.reason})
			m.ended = now
		}
		wake.at(m.ended.Add(set.RetryEnd))
		return m, acts
	}
	end := func(r Reason) {
		m.reason, m.ended = r, now
		acts = append(acts, Action{Kind: ActEnd, Job: j.ID, Reason: r}, Action{Kind: ActNotify, Job: j.ID, Reason: r})
		wake.at(now.Add(set.RetryEnd))
	}
	switch v.hold {
	case holdEnd:
		end(v.reason)
	case holdFreeze:
		if !m.frozen {
			m.frozen, m.since = true, now
			m.reason = v.reason
			endsAt := graceEnd(m, set)
			acts = append(acts, Action{Kind: ActFreeze, Job: j.ID, Reason: v.reason},
				Action{Kind: ActNotify, Job: j.ID, Reason: v.reason, EndsAt: endsAt})
			wake.at(endsAt)
			return m, acts
		}
		m.reason = v.reason
		endsAt := graceEnd(m, set)
		if endsAt.IsZero() || now.Before(endsAt) {
			wake.at(endsAt)
			return m, acts
		}
		if v.reason.Code == localapi.ReasonActive && !in.Presence.LastInput().After(m.since.Add(touch)) {
			// Only a brief touch, then quiet for the whole grace: resume.
			m.frozen, m.forgive = false, m.since.Add(touch)
			acts = append(acts, Action{Kind: ActThaw, Job: j.ID}, Action{Kind: ActNotify, Job: j.ID})
			return m, acts
		}
		end(v.reason)
	default:
		if m.frozen {
			m.frozen = false
			acts = append(acts, Action{Kind: ActThaw, Job: j.ID}, Action{Kind: ActNotify, Job: j.ID})
		}
	}
	return m, acts
}

// graceEnd is when a frozen job is ended if its reason holds; zero: never.
func graceEnd(m jobMem, set Settings) time.Time {
	switch m.reason.Code {
	case localapi.ReasonSleeping:
		return time.Time{}
	case localapi.ReasonHot:
		return m.since.Add(set.HotGrace)
	}
	return m.since.Add(set.Grace)
}

// machineVerdict applies the rules that hold for every GPU.
func machineVerdict(in Inputs, now time.Time, set Settings, wake *waker) verdict {
	switch {
	case in.Off != "":
		return verdict{holdEnd, Reason{Code: localapi.ReasonOff, Detail: in.Off}}
	case in.Draining:
		return verdict{holdEnd, Reason{Code: localapi.ReasonDraining}}
	case in.Pause.Active(now):
		if !in.Pause.Indefinite {
			wake.at(in.Pause.Until)
		}
		return verdict{holdEnd, Reason{Code: localapi.ReasonPaused, Next: in.Pause.Until}}
	case in.Runtime != "":
		return verdict{holdEnd, Reason{Code: localapi.ReasonRuntime, Detail: in.Runtime}}
	}
	p := in.Power
	if p.Known && p.OnBattery && !set.WorkOnBattery {
		return verdict{holdEnd, Reason{Code: localapi.ReasonBattery, At: p.At}}
	}
	if p.Known && p.Charge >= 0 && set.MinCharge > 0 && p.Charge < set.MinCharge {
		return verdict{holdEnd, Reason{Code: localapi.ReasonCharge, Value: p.Charge, Limit: set.MinCharge}}
	}
	in2, change := inSchedule(set.Schedule, now, set.Location)
	wake.at(change)
	if !in2 {
		return verdict{holdEnd, Reason{Code: localapi.ReasonSchedule, Next: change}}
	}
	r := in.Presence
	silent := r.At.IsZero() || now.Sub(r.At) >= set.SensorSilence
	if !silent {
		wake.at(r.At.Add(set.SensorSilence))
		if r.Sleeping {
			return verdict{holdFreeze, Reason{Code: localapi.ReasonSleeping, At: r.At}}
		}
	}
	if set.AlwaysAvailable {
		return verdict{}
	}
	switch {
	case silent:
		return verdict{holdFreeze, Reason{Code: localapi.ReasonSilent, At: r.At}}
	case r.Locked:
		return verdict{}
	case !r.IdleKnown:
		return verdict{holdFreeze, Reason{Code: localapi.ReasonIdleUnknown, At: r.At}}
	}
	last := r.LastInput()
	if start := last.Add(set.IdleBefore); now.Before(start) {
		wake.at(start)
		return verdict{holdFreeze, Reason{Code: localapi.ReasonActive, At: last, Next: start}}
	}
	return verdict{}
}

// deviceVerdict applies the rules of one GPU. It records the GPU's heat
// state (with hysteresis) in hot.
func deviceVerdict(d gpu.Device, wasHot bool, own func(uint32) bool, gameGPUs map[string]bool, game string,
	set Settings, hot map[string]bool) verdict {
	v := verdict{}
	isHot := d.TemperatureC >= set.MaxTempC || (wasHot && d.TemperatureC > set.MaxTempC-set.TempHysteresis)
	if isHot {
		hot[d.UUID] = true
		v = verdict{holdFreeze, Reason{Code: localapi.ReasonHot, Detail: d.Name, Value: d.TemperatureC, Limit: set.MaxTempC - set.TempHysteresis}}
	}
	if gameGPUs[d.UUID] {
		return verdict{holdEnd, Reason{Code: localapi.ReasonGame, Detail: game}}
	}
	if f := gpu.Foreign(d, own); len(f) > 0 {
		name := f[0].Name
		if name == "" {
			name = fmt.Sprintf("process %d", f[0].PID)
		}
		return verdict{holdEnd, Reason{Code: localapi.ReasonForeignGPU, Detail: name}}
	}
	return v
}

// attributeGame returns the GPUs the current game uses (those showing one
// of its PIDs), or unseen true when the game shows on none: then every GPU
// freezes until it does, and ends after the grace if it never does.
func attributeGame(in Inputs, now time.Time, set Settings) (on map[string]bool, unseen bool) {
	r := in.Presence
	if r.Game == "" || r.At.IsZero() || now.Sub(r.At) >= set.SensorSilence {
		return nil, false
	}
	out := map[string]bool{}
	for _, d := range in.GPU.Devices {
		for _, p := range d.Processes {
			if slices.Contains(r.GamePIDs, p.PID) {
				out[d.UUID] = true
			}
		}
	}
	return out, len(out) == 0
}

func ownPIDs(in Inputs) func(uint32) bool {
	set := map[uint32]bool{}
	for _, j := range in.Jobs {
		for _, p := range j.PIDs {
			set[p] = true
		}
	}
	return func(pid uint32) bool { return set[pid] || (in.Own != nil && in.Own(pid)) }
}

// topState sums the situation up in one State.
func topState(in Inputs, st Status, machine verdict, free []string, set Settings) Phase {
	names := func(uuids []string) []string {
		var out []string
		for _, d := range st.Devices {
			if slices.Contains(uuids, d.UUID) {
				out = append(out, d.Name)
			}
		}
		return out
	}
	switch machine.reason.Code {
	case localapi.ReasonOff:
		return Phase{State: Off, Reason: machine.reason}
	case localapi.ReasonDraining:
		return Phase{State: Draining, Reason: machine.reason}
	case localapi.ReasonPaused:
		return Phase{State: Paused, Until: in.Pause.Until, Reason: machine.reason}
	}
	var running *Job
	for i, j := range in.Jobs {
		m := st.jobs[j.ID]
		if !m.ended.IsZero() {
			continue
		}
		if m.frozen {
			return Phase{State: Frozen, Job: j.ID, Since: m.since, Reason: m.reason, EndsAt: graceEnd(m, set), GPUs: names(j.GPUs)}
		}
		if running == nil {
			running = &in.Jobs[i]
		}
	}
	if running != nil {
		return Phase{State: Running, Job: running.ID, GPUs: names(running.GPUs)}
	}
	if len(free) > 0 {
		return Phase{State: Available, GPUs: names(free)}
	}
	r := machine.reason
	if machine.hold == holdNone {
		for _, d := range st.Devices {
			if !d.Usable {
				r = d.Reason
				break
			}
		}
	}
	if r.Code == localapi.ReasonNone {
		r = Reason{Code: localapi.ReasonNoGPU, Detail: "no GPU found"}
		if len(st.Devices) > 0 {
			r = Reason{Code: localapi.ReasonNoGPU, Detail: "every GPU is busy"}
		}
	}
	return Phase{State: Waiting, Reason: r}
}

// waker keeps the earliest future deadline.
type waker struct {
	now, next time.Time
}

func (w *waker) at(t time.Time) {
	if t.IsZero() || !t.After(w.now) {
		return
	}
	if w.next.IsZero() || t.Before(w.next) {
		w.next = t
	}
}
