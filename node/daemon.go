package node

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/presence"
	"github.com/sparegpu/spare/sandbox"
	"github.com/sparegpu/spare/settings"
	"github.com/sparegpu/spare/wallet"
)

// DaemonConfig wires a Daemon. Sandbox and DataDir are required.
type DaemonConfig struct {
	DataDir string
	Sandbox *sandbox.Sandbox
	// Settings are the governor's rules; zero fields take defaults.
	Settings governor.Settings
	// Display is the X display the daemon reads presence from itself.
	// Empty: $DISPLAY (none: the desktop app reports presence).
	Display string
	// Version is reported in the status.
	Version string
	// Notice is shown to the owner with the status (localapi.Status.Notice).
	Notice string
	Log    *slog.Logger
	// Market is the market's provider side (provider.Provider): it
	// advertises while the governor says Available, hears of preemption,
	// takes the owner's terms and describes the peer and the current job.
	// Nil: a daemon that takes no work from the network.
	Market Market
	// Wallet serves the wallet routes of the LocalAPI; nil: they answer
	// that there is no wallet.
	Wallet *wallet.Wallet
	// Chain is where the wallet's money settles, for the Wallet page's
	// figures; nil: the embedded ledger.
	Chain WalletChain
	// Networks are the named networks the owner may choose in Settings
	// (DATA/networks.json: chain presets and private pools);
	// NetworkInUse is the one this run is on (empty: the embedded ledger
	// on the public network, or a --pool of its own).
	Networks     []string
	NetworkInUse string
	// PassSchedule is how long the wallet routes make a caller wait after
	// wrong passphrases; zero fields take the defaults (5 free, then 10 s
	// doubling to 1 h).
	PassSchedule PassSchedule
	// Pinned names the owner settings (settings.FieldIdleMinutes,
	// FieldRunOnBattery, FieldMaxTempC, FieldPriceFloor) that the command
	// line set: for this run they take Settings' value over
	// DATA/settings.json.
	Pinned []string
	// Submitter runs jobs for the daemon's user (POST /v1/jobs, what
	// `spare submit` uses when a daemon runs); nil: the route answers
	// that the daemon does not submit jobs.
	Submitter jobSubmitter
	// Seats says who holds each seat's active session, whose presence
	// reports alone are taken (POST /v1/presence). Nil: logind over the
	// system D-Bus (presence.Seats).
	Seats seatReader
	// Telemetry reads the GPUs. Nil: NVML, or the CPU alone when there is
	// no NVIDIA driver. Tests feed recorded telemetry here, so that what
	// they see does not depend on the machine's GPUs.
	Telemetry TelemetrySource
	// Household shows and commands the household's other machines on the
	// LAN (household.Service); nil: the household routes answer that
	// there is none.
	Household Household
	// Relay is the p2p host's volunteer relay, switched by the owner's
	// relay setting; nil: no p2p host (the setting is kept, not applied).
	Relay Relay
	// PowercapRoot is where the CPU's RAPL energy counters are read.
	// Empty: /sys/class/powercap (tests give a fake tree).
	PowercapRoot string
}

// Market is what the daemon needs from the market's provider side.
type Market interface {
	// Publish advertises these GPUs (UUIDs), replacing any earlier ad;
	// Withdraw removes it (the governor's ActPublish, ActWithdraw).
	Publish(ctx context.Context, gpus []string) error
	Withdraw(ctx context.Context) error
	// Notify tells a job's requester that it froze, thawed or ends.
	Notify(ctx context.Context, job string, n governor.Notice) error
	// SetTerms replaces the price (nil: the configured one) and the
	// allowed kinds (empty: any) of quotes given from now on.
	SetTerms(price *market.Price, kinds []market.Kind)
	// SetCostFloor replaces the "never work at a loss" floor (zero:
	// none): quotes ask at least it and jobs paying less are refused.
	SetCostFloor(floor market.Price)
	// Describe adds what the daemon does not own to a status (peer ID,
	// addresses, earnings); it is called on every read.
	Describe(*localapi.Status)
	// DescribeJob gives a running job's kind, requester and earnings;
	// false: the market does not know the job.
	DescribeJob(ctx context.Context, id string) (localapi.Job, bool)
}

// WalletChain is the chain a daemon's money settles on, as GET /v1/wallet
// shows it (cmd/spare adapts package wallet/evm's Backend).
type WalletChain interface {
	Network() (name string, chainID uint64, symbol string)
	TokenBalance(ctx context.Context, a common.Address) (wallet.Amount, error)
	// TxURL is tx on the network's explorer; empty: none.
	TxURL(tx common.Hash) string
	// TokenPerNative is what one native coin (1e18 wei) is worth in the
	// token's smallest unit; 0: not known (gas is then shown in wei only).
	TokenPerNative() uint64
	// SettleRule is when pending earnings settle: the threshold at the
	// gas price now, and how often settlements due are looked for.
	SettleRule(ctx context.Context) localapi.SettleRule
	// WithdrawableAt is when channel id's payer may withdraw what is not
	// settled (read on the chain); zero: no close requested.
	WithdrawableAt(ctx context.Context, id common.Hash) (time.Time, error)
}

// IOUMarket is a Market that takes IOUs (jobs paid without a chain) on
// the public network only from peers the owner trusts (the provider): the
// owner's settings say whether strangers' are taken too, and whose.
type IOUMarket interface {
	SetIOUPolicy(fromStrangers bool, friends []peer.ID)
}

// TelemetrySource is what the daemon reads GPU telemetry from; *gpu.NVML
// and *gpu.Replay have it.
type TelemetrySource interface {
	Snapshot(ctx context.Context) (gpu.Snapshot, error)
}

// telemetryEvery is how often GPU telemetry is read.
const telemetryEvery = 2 * time.Second

// Daemon is `spare node`: the governor, its sensors and the LocalAPI.
type Daemon struct {
	cfg  DaemonConfig
	log  *slog.Logger
	gov  *governor.Governor
	jobs *sandboxJobs

	leftovers leftoverJobs // ended jobs whose removal failed

	energy    energyMeter // running jobs' energy so far
	energyLog *energyLog  // ended jobs' energy

	running sync.WaitGroup // goroutines waiting on started jobs
	submits requesterJobs  // jobs submitted through the LocalAPI

	mu     sync.Mutex
	status localapi.Status
	// phase is the governor's latest: the status's sentence is rendered
	// from it whenever the status is read, so that it counts down.
	phase     governor.Phase
	subs      map[chan localapi.Status]struct{}
	gpuNote   string
	owner     localapi.Settings // the owner's settings in force
	power     settings.Power    // what the cost floor counts, from telemetry
	pinned    []string          // of those, set by the command line
	jobStarts map[string]time.Time

	startSettings governor.Settings // what the governor started with
	met           *jobMetrics       // GET /metrics' own counters

	seats      seatReader
	ownSeats   *presence.Seats // the one Serve closes, when the config gave none
	tele       telemetryHistory
	settingsOp sync.Mutex // one settings change at a time
	walletOp   sync.Mutex // one wallet operation (passphrase check) at a time
	tries      passTries  // wrong passphrases, under walletOp; read from DATA once
	triesRead  bool
	walletMu   sync.Mutex
	walletAddr common.Address

	// stop ends Serve as its context's end would (POST /v1/stop); set
	// while Serve runs.
	stop atomic.Pointer[context.CancelFunc]
}

// NewDaemon builds a daemon; run it with Serve.
func NewDaemon(cfg DaemonConfig) *Daemon {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	d := &Daemon{cfg: cfg, log: cfg.Log.With("component", "node"), jobs: newSandboxJobs(),
		subs: map[chan localapi.Status]struct{}{}, jobStarts: map[string]time.Time{}, energyLog: newEnergyLog(cfg.DataDir), met: newJobMetrics()}
	d.seats = cfg.Seats
	if d.seats == nil {
		d.ownSeats = &presence.Seats{}
		d.seats = d.ownSeats
	}
	if d.cfg.PowercapRoot == "" {
		d.cfg.PowercapRoot = PowercapRoot
	}
	set := d.initialSettings()
	d.startSettings = set
	d.power = floorPower(cpuOnlySnapshot(time.Now()), runtime.NumCPU()) // until the first reading
	gc := governor.Config{Settings: set, Jobs: d.jobs, Logger: cfg.Log, OnChange: d.onChange}
	if cfg.Market != nil {
		cfg.Market.SetTerms(settings.Terms(d.owner, d.pinned))
		d.applyCostFloor()
		if m, ok := cfg.Market.(IOUMarket); ok {
			m.SetIOUPolicy(settings.IOUs(d.owner))
		}
		gc.Ads, gc.Notifier = cfg.Market, cfg.Market
	}
	d.applyRelay(d.owner)
	d.gov = governor.New(gc)
	d.status, d.phase = d.render(d.gov.Status()), d.gov.Status().Phase
	return d
}

// Governor returns the daemon's governor.
func (d *Daemon) Governor() *governor.Governor { return d.gov }

// Serve runs until ctx ends, or an owner asks it to stop (POST /v1/stop),
// then drains jobs and returns nil.
func (d *Daemon) Serve(ctx context.Context) error {
	ln, err := listenSocket(localapi.SocketPath(d.cfg.DataDir))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	d.stop.Store(&cancel)
	defer d.stop.Store(nil)
	// Requests end with the daemon: a submitted job's context is its request's.
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }, ConnContext: withPeerCred}
	defer cancel()
	var wg sync.WaitGroup
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				d.log.Warn(name+" stopped", "err", err)
			}
		}()
	}
	run("telemetry", d.pollTelemetry)
	run("presence", d.watchPresence)
	run("wallet", d.watchWallet)
	run("runtime", d.watchRuntime)
	govDone := make(chan struct{})
	go func() {
		defer close(govDone)
		_ = d.gov.Serve(ctx)
	}()
	go func() { _ = srv.Serve(ln) }()
	d.log.Info("LocalAPI listening", "socket", ln.Addr().String())

	<-ctx.Done()
	<-govDone // drained: jobs ended, ad withdrawn
	d.running.Wait()
	d.submits.close() // cancelled with ctx; each pays its receipted work
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	d.closeSubscribers()
	_ = srv.Shutdown(sctx)
	wg.Wait()
	if d.ownSeats != nil {
		_ = d.ownSeats.Close()
	}
	return nil
}

// listenSocket listens on the LocalAPI socket: owner-only, or
// owner+group when a "spare" group exists (its members' desktop apps may
// use the daemon). A stale socket from a crash is replaced; a live one
// means another daemon runs.
func listenSocket(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, errors.New("another Spare daemon already listens on " + path)
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	mode := os.FileMode(0o600)
	if g, err := user.LookupGroup("spare"); err == nil {
		if gid, err := strconv.Atoi(g.Gid); err == nil && os.Chown(path, -1, gid) == nil {
			mode = 0o660
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// pollTelemetry feeds GPU readings to the governor. Without an NVIDIA
// driver the machine offers its CPU as one device, so CPU-only jobs run
// under the same rules.
func (d *Daemon) pollTelemetry(ctx context.Context) error {
	nv := d.cfg.Telemetry
	if nv == nil {
		if n, err := gpu.Open(); err != nil {
			d.mu.Lock()
			d.gpuNote = err.Error() + " — offering CPU-only work"
			d.mu.Unlock()
			d.log.Info("no GPU telemetry; CPU-only", "why", err)
		} else {
			defer n.Close()
			nv = n
		}
	}
	t := time.NewTicker(telemetryEvery)
	defer t.Stop()
	for {
		snap := cpuOnlySnapshot(time.Now())
		var rerr error
		if nv != nil {
			if snap, rerr = nv.Snapshot(ctx); rerr != nil {
				d.log.Warn("reading GPU telemetry", "err", rerr)
			}
		}
		if rerr == nil {
			d.tele.add(snap)
			d.noteFloorPower(snap)
			d.meterEnergy(snap)
			if err := d.gov.SetTelemetry(snap); err != nil {
				return nil // governor stopped
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// CPUDeviceUUID names the machine's CPU when it stands in for a GPU.
const CPUDeviceUUID = "cpu"

func cpuOnlySnapshot(now time.Time) gpu.Snapshot {
	return gpu.Snapshot{At: now, Devices: []gpu.Device{{Index: 0, UUID: CPUDeviceUUID, Name: "CPU only (no NVIDIA GPU)"}}}
}

// watchPresence reads what the daemon can see itself (X11, logind). The
// desktop app adds its own reports through the LocalAPI.
func (d *Daemon) watchPresence(ctx context.Context) error {
	err := presence.Watch(ctx, presence.Options{
		Display:  d.cfg.Display,
		Interval: d.gov.PollInterval,
		Wake:     d.gov.PollWake(),
		OnPower:  func(p presence.Power) { _ = d.gov.SetPower(p) },
		Logger:   d.cfg.Log,
	}, func(r presence.Report) { _ = d.gov.SetPresence(r) })
	if errors.Is(err, presence.ErrUnsupported) {
		d.log.Info("the daemon cannot see this session's input; waiting for the desktop app to report it", "why", err)
		return nil
	}
	return err
}

func (d *Daemon) onChange(st governor.Status) {
	s := d.render(st)
	d.mu.Lock()
	d.met.stateChanged(d.phase, st.Phase, time.Now())
	d.status, d.phase = s, st.Phase
	for ch := range d.subs {
		select {
		case ch <- s:
		default: // a slow reader misses intermediate states, never blocks the governor
		}
	}
	d.mu.Unlock()
}

// Status is the current LocalAPI status, its sentence true now.
func (d *Daemon) Status() localapi.Status {
	s := d.ownStatus(time.Now())
	if d.cfg.Market != nil {
		s.Addrs = nil
		d.cfg.Market.Describe(&s)
		if s.Addrs == nil {
			s.Addrs = []string{}
		}
		if s.Network != "" {
			s.Settles = localapi.SettlesLedger
			if d.cfg.Chain != nil {
				s.Settles, _, _ = d.cfg.Chain.Network()
			}
		}
	}
	if d.cfg.Relay != nil {
		d.cfg.Relay.DescribeRelay(&s)
	}
	return s
}

// ownStatus is the daemon's own part of the status (the market adds the
// rest), with the sentence and the brief line rendered at now from the
// governor's phase: "starting in 4 min 57 s" is true whenever it is read.
func (d *Daemon) ownStatus(now time.Time) localapi.Status {
	d.mu.Lock()
	s, ph := d.status, d.phase
	d.mu.Unlock()
	s.Sentence, s.Brief, s.Updated = ph.Sentence(now), ph.Brief(now), now
	return s
}

func (d *Daemon) render(st governor.Status) localapi.Status {
	now := time.Now()
	s := localapi.Status{
		State: st.Phase.State.Word(), Reason: st.Phase.Reason.Code,
		Sentence: st.Phase.Sentence(now), Brief: st.Phase.Brief(now), Job: st.Phase.Job, Until: st.Phase.Until,
		EarnedToday: "0.000000", Version: d.cfg.Version, Notice: d.cfg.Notice, Updated: now, Addrs: []string{},
		Devices: []localapi.Device{},
	}
	for _, dev := range st.Devices {
		s.Devices = append(s.Devices, localapi.Device{Index: dev.Index, UUID: dev.UUID, Name: dev.Name,
			Usable: dev.Usable, Reason: dev.Reason.Code, Job: dev.Job})
	}
	d.mu.Lock()
	s.GPU = d.gpuNote
	d.mu.Unlock()
	return s
}

func (d *Daemon) subscribe() chan localapi.Status {
	ch := make(chan localapi.Status, 16)
	d.mu.Lock()
	d.subs[ch] = struct{}{}
	d.mu.Unlock()
	return ch
}

func (d *Daemon) unsubscribe(ch chan localapi.Status) {
	d.mu.Lock()
	if _, ok := d.subs[ch]; ok {
		delete(d.subs, ch)
		close(ch)
	}
	d.mu.Unlock()
}

func (d *Daemon) closeSubscribers() {
	d.mu.Lock()
	for ch := range d.subs {
		delete(d.subs, ch)
		close(ch)
	}
	d.mu.Unlock()
}
