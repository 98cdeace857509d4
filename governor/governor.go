package governor

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

// jobControl is what the governor needs from the sandbox and job lifecycle.
type jobControl interface {
	// Freeze stops the job's processes at once (cgroup freezer).
	Freeze(ctx context.Context, id string) error
	// Thaw resumes a frozen job.
	Thaw(ctx context.Context, id string) error
	// End stops the job, frees its VRAM and sends the final receipt.
	End(ctx context.Context, id string, why Reason) error
}

// adPublisher is what the governor needs from the market.
type adPublisher interface {
	// Publish advertises these GPUs (UUIDs), replacing any earlier ad.
	Publish(ctx context.Context, gpus []string) error
	// Withdraw removes the ad; no proposals are accepted after it.
	Withdraw(ctx context.Context) error
}

// preemptNotifier tells a job's requester what happens to it.
type preemptNotifier interface {
	Notify(ctx context.Context, job string, n Notice) error
}

// Notice is a preemption notice: the job was frozen (EndsAt says when it
// will end unless the owner leaves), ended, or resumed (Resumed).
type Notice struct {
	Reason  Reason    `json:"reason"`
	EndsAt  time.Time `json:"ends_at,omitzero"`
	Ended   bool      `json:"ended,omitempty"`
	Resumed bool      `json:"resumed,omitempty"`
}

// Poll intervals a presence sensor without input events should use (see
// Governor.PollInterval). The X11 sensor with the SYNC idle alarm learns
// of returning input from an event and does not poll.
const (
	// FastPoll is used while a job runs: returning input must freeze it
	// within 150 ms.
	FastPoll = 50 * time.Millisecond
	// SlowPoll is used otherwise.
	SlowPoll = time.Second
)

// ErrStopped is returned by input methods after Serve has returned.
var ErrStopped = errors.New("governor stopped")

// Config wires a Governor. Jobs is required; the rest may be nil.
type Config struct {
	Settings Settings
	Jobs     jobControl
	Ads      adPublisher
	Notifier preemptNotifier
	// Own reports GPU processes that belong to Spare's containers.
	Own func(pid uint32) bool
	// OnChange is called (from Serve's goroutine) after the state changes.
	OnChange func(Status)
	Logger   *slog.Logger
	// DrainTimeout bounds ending jobs when Serve stops. Zero: 30 s.
	DrainTimeout time.Duration
}

// Governor runs Decide over live inputs and carries out its actions.
// Input methods may be called from any goroutine; Serve owns the state.
type Governor struct {
	cfg    Config
	log    *slog.Logger
	events chan func(*Inputs)
	done   chan struct{}
	fast   atomic.Bool
	wake   chan struct{} // poked when the fast poll starts

	mu sync.Mutex
	st Status
}

// New returns a governor; run it with Serve.
func New(cfg Config) *Governor {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	return &Governor{cfg: cfg, log: cfg.Logger.With("component", "governor"),
		events: make(chan func(*Inputs), 64), done: make(chan struct{}), wake: make(chan struct{}, 1)}
}

func (g *Governor) send(f func(*Inputs)) error {
	select {
	case <-g.done:
		return ErrStopped
	default:
	}
	select {
	case g.events <- f:
		return nil
	case <-g.done:
		return ErrStopped
	}
}

// SetPresence feeds a presence report (from the desktop app or a sensor).
func (g *Governor) SetPresence(r presence.Report) error {
	return g.send(func(in *Inputs) { in.Presence = r })
}

// SetPower feeds a power reading.
func (g *Governor) SetPower(p presence.Power) error { return g.send(func(in *Inputs) { in.Power = p }) }

// SetTelemetry feeds a GPU snapshot.
func (g *Governor) SetTelemetry(s gpu.Snapshot) error {
	return g.send(func(in *Inputs) { in.GPU = s })
}

// SetOff switches the governor off with a reason ("no NVIDIA GPU: …");
// an empty reason switches it on again.
func (g *Governor) SetOff(reason string) error { return g.send(func(in *Inputs) { in.Off = reason }) }

// SetRuntime says the container runtime stopped answering, with the
// command that starts it ("sudo systemctl start containerd"); an empty
// fix says it answers again.
func (g *Governor) SetRuntime(fix string) error {
	return g.send(func(in *Inputs) { in.Runtime = fix })
}

// JobStarted tells the governor a job now runs.
func (g *Governor) JobStarted(j Job) error {
	return g.send(func(in *Inputs) {
		in.Jobs = append(in.Jobs, j)
	})
}

// JobEnded tells the governor a job is gone (finished or ended).
func (g *Governor) JobEnded(id string) error {
	return g.send(func(in *Inputs) {
		out := in.Jobs[:0]
		for _, j := range in.Jobs {
			if j.ID != id {
				out = append(out, j)
			}
		}
		in.Jobs = out
	})
}

// SetSettings replaces the governor's rules while it runs (the owner
// changed them); the next decision uses them. Zero fields take defaults.
func (g *Governor) SetSettings(s Settings) error {
	// The change runs on Serve's goroutine, the only reader of
	// cfg.Settings, like every other input.
	return g.send(func(*Inputs) { g.cfg.Settings = s })
}

// Pause applies the owner's pause (PauseFor, PauseUntilTomorrow,
// PauseUntilResumed); Resume lifts it.
func (g *Governor) Pause(p Pause) error { return g.send(func(in *Inputs) { in.Pause = p }) }

// Resume lifts a pause.
func (g *Governor) Resume() error { return g.Pause(Pause{}) }

// Status returns the latest status.
func (g *Governor) Status() Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.st
}

// PollInterval is how often a presence sensor should look: FastPoll while
// a job runs, SlowPoll otherwise.
func (g *Governor) PollInterval() time.Duration {
	if g.fast.Load() {
		return FastPoll
	}
	return SlowPoll
}

// PollWake delivers a value when the fast poll starts, so a sensor
// waiting out a slow poll looks again at once (presence.Options.Wake).
func (g *Governor) PollWake() <-chan struct{} { return g.wake }

// Serve runs the governor until ctx ends, then drains: it ends every job
// (final receipts) and withdraws the ad before returning.
func (g *Governor) Serve(ctx context.Context) error {
	defer close(g.done)
	var (
		in    = Inputs{Own: g.cfg.Own, Power: presence.Power{Charge: -1}}
		timer = time.NewTimer(time.Hour)
		slow  = newSlowLane(g.log)
	)
	timer.Stop()
	defer timer.Stop()
	go slow.run()
	defer slow.close()

	step := func(actx context.Context) {
		prev := g.Status()
		now := time.Now()
		st, acts := Decide(prev, in, now, g.cfg.Settings)
		g.mu.Lock()
		g.st = st
		g.mu.Unlock()
		fast := st.Phase.State == Running || st.Phase.State == Frozen
		if was := g.fast.Swap(fast); fast && !was {
			select {
			case g.wake <- struct{}{}:
			default:
			}
		}
		for _, a := range acts {
			g.do(actx, a, slow)
		}
		timer.Stop()
		if !st.Wake.IsZero() {
			timer.Reset(st.Wake.Sub(now))
		}
		if st.Phase.String() != prev.Phase.String() {
			g.log.Info("state", "state", st.Phase.String(), "why", st.Phase.Sentence(now))
			if g.cfg.OnChange != nil {
				g.cfg.OnChange(st)
			}
		}
	}
	step(ctx)
	for {
		select {
		case <-ctx.Done():
			in.Draining = true
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.DrainTimeout)
			step(dctx)
			slow.close() // the ends run under dctx: wait for them before cancelling it
			cancel()
			return nil
		case f := <-g.events:
			f(&in)
			// Apply whatever else is queued before deciding once.
			for more := true; more; {
				select {
				case f := <-g.events:
					f(&in)
				default:
					more = false
				}
			}
			step(ctx)
		case <-timer.C:
			step(ctx)
		}
	}
}

// do carries out one action. Freeze and thaw run at once; ending a job,
// notices and ads go through the slow lane in order, so a slow network
// never delays a freeze.
func (g *Governor) do(ctx context.Context, a Action, slow *slowLane) {
	log := g.log.With("action", a.Kind.String(), "job", a.Job)
	switch a.Kind {
	case ActFreeze:
		if err := g.cfg.Jobs.Freeze(ctx, a.Job); err != nil {
			log.Error("freezing failed; ending the job instead", "err", err)
			slow.push(ctx, func(ctx context.Context) error { return g.cfg.Jobs.End(ctx, a.Job, a.Reason) })
		}
	case ActThaw:
		if err := g.cfg.Jobs.Thaw(ctx, a.Job); err != nil {
			log.Warn("thawing failed", "err", err)
		}
	case ActEnd:
		slow.push(ctx, func(ctx context.Context) error { return g.cfg.Jobs.End(ctx, a.Job, a.Reason) })
	case ActNotify:
		if g.cfg.Notifier == nil {
			return
		}
		n := Notice{Reason: a.Reason, EndsAt: a.EndsAt, Resumed: a.Reason.Code == localapi.ReasonNone}
		slow.push(ctx, func(ctx context.Context) error { return g.cfg.Notifier.Notify(ctx, a.Job, n) })
	case ActPublish:
		if g.cfg.Ads != nil {
			gpus := a.GPUs
			slow.push(ctx, func(ctx context.Context) error { return g.cfg.Ads.Publish(ctx, gpus) })
		}
	case ActWithdraw:
		if g.cfg.Ads != nil {
			slow.push(ctx, func(ctx context.Context) error { return g.cfg.Ads.Withdraw(ctx) })
		}
	}
}

// slowLane runs network-bound actions one at a time, in order.
type slowLane struct {
	log  *slog.Logger
	q    chan func() error
	wg   sync.WaitGroup
	once sync.Once
}

func newSlowLane(log *slog.Logger) *slowLane {
	return &slowLane{log: log, q: make(chan func() error, 256)}
}

func (s *slowLane) push(ctx context.Context, f func(context.Context) error) {
	s.wg.Add(1)
	s.q <- func() error { return f(ctx) }
}

func (s *slowLane) run() {
	for f := range s.q {
		if err := f(); err != nil {
			s.log.Warn("action failed", "err", err)
		}
		s.wg.Done()
	}
}

// close waits for queued actions, then stops the worker.
func (s *slowLane) close() {
	s.wg.Wait()
	s.once.Do(func() { close(s.q) })
}
