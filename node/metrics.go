package node

import (
	"context"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/sandbox"
	"github.com/sparegpu/spare/wallet"
)

// GET /metrics (Prometheus text format). Names follow Prometheus's rules:
// base units (seconds, bytes, watts, celsius, ratios), _total on counters.
// Money is in the token's smallest unit (1 = 0.000001 of the currency),
// as the ledger keeps it. What the ledger and the telemetry hold is read
// from them at each scrape; what happens only in this process (jobs,
// give-backs) is counted here and starts from zero with the daemon.

// Job outcomes in spare_jobs_failed_total's reason label.
const (
	failStart    = "start"     // the sandbox could not start it
	failError    = "error"     // waiting on it or copying its outputs failed
	failExitCode = "exit_code" // it exited non-zero
)

// giveBackBuckets are the give-back latency histogram's bounds, around
// the 150 ms the governor promises (governor.FastPoll).
var giveBackBuckets = []float64{0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10}

// jobMetrics are the daemon's own counters.
type jobMetrics struct {
	started  prometheus.Counter
	finished prometheus.Counter
	failed   *prometheus.CounterVec
	seconds  prometheus.Counter
	giveBack prometheus.Histogram
}

func newJobMetrics() *jobMetrics {
	m := &jobMetrics{
		started: prometheus.NewCounter(prometheus.CounterOpts{Name: "spare_jobs_started_total",
			Help: "Jobs this node started in its sandbox."}),
		finished: prometheus.NewCounter(prometheus.CounterOpts{Name: "spare_jobs_finished_total",
			Help: "Jobs that ran to the end and exited 0."}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spare_jobs_failed_total",
			Help: "Jobs that did not finish, by reason: exit_code (exited non-zero), stopped (ended by the owner's return, the requester or the node), timeout, memory, output_full, start (could not start), error."},
			[]string{"reason"}),
		seconds: prometheus.NewCounter(prometheus.CounterOpts{Name: "spare_job_seconds_total",
			Help: "Seconds jobs ran, frozen time included, summed over ended jobs."}),
		giveBack: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "spare_give_back_seconds",
			Help:    "Seconds from the owner's input to the running job being frozen.",
			Buckets: giveBackBuckets}),
	}
	for _, r := range []string{failExitCode, sandbox.ReasonStopped, sandbox.ReasonTimeout, sandbox.ReasonMemory, "output_full", failStart, failError} {
		m.failed.WithLabelValues(r) // every reason shows, at 0 until it happens
	}
	return m
}

// jobEnded counts a job's end from its result.
func (m *jobMetrics) jobEnded(r JobResult, ran time.Duration) {
	if r.Result.Duration > 0 {
		ran = r.Result.Duration
	}
	m.seconds.Add(ran.Seconds())
	switch {
	case r.Err != nil:
		m.failed.WithLabelValues(failError).Inc()
	case r.Result.Reason == sandbox.ReasonOutputFull:
		m.failed.WithLabelValues("output_full").Inc()
	case r.Result.Reason != "":
		m.failed.WithLabelValues(r.Result.Reason).Inc()
	case r.Result.ExitCode != 0:
		m.failed.WithLabelValues(failExitCode).Inc()
	default:
		m.finished.Inc()
	}
}

// stateChanged observes a give-back: the governor froze the job because
// the owner's input came (it calls OnChange after the freeze is done).
func (m *jobMetrics) stateChanged(prev, next governor.Phase, now time.Time) {
	if next.State != governor.Frozen || prev.State == governor.Frozen || next.Reason.Code != localapi.ReasonActive || next.Reason.At.IsZero() {
		return
	}
	if lat := now.Sub(next.Reason.At); lat >= 0 {
		m.giveBack.Observe(lat.Seconds())
	}
}

// metrics is the registry GET /metrics serves.
func (d *Daemon) metrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(buildInfo(d.cfg.Version))
	for _, st := range localapi.States {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spare_state", Help: "1 for the governor's current state.", ConstLabels: prometheus.Labels{"state": string(st)},
		}, func() float64 {
			if d.Status().State == st {
				return 1
			}
			return 0
		}))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "spare_devices_usable", Help: "Devices that may take work now.",
	}, func() float64 {
		n := 0
		for _, dev := range d.Status().Devices {
			if dev.Usable {
				n++
			}
		}
		return float64(n)
	}))
	m := d.met
	reg.MustRegister(m.started, m.finished, m.failed, m.seconds, m.giveBack)
	reg.MustRegister(deviceCollector{&d.tele})
	if d.cfg.Wallet != nil {
		reg.MustRegister(ledgerCollector{d})
	}
	return reg
}

// buildInfo is spare_build_info: 1, with the version in its labels.
func buildInfo(version string) prometheus.Collector {
	rev := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	if version == "" {
		version = "unknown"
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spare_build_info", Help: "1, labelled with the build of this spare.",
		ConstLabels: prometheus.Labels{"version": version, "revision": rev, "goversion": runtime.Version(), "goos": runtime.GOOS, "goarch": runtime.GOARCH}},
		func() float64 { return 1 })
}

var (
	deviceLabels   = []string{"index", "uuid", "name"}
	descGPUUtil    = prometheus.NewDesc("spare_gpu_utilization_ratio", "GPU core utilisation, 0 to 1.", deviceLabels, nil)
	descGPUTemp    = prometheus.NewDesc("spare_gpu_temperature_celsius", "GPU temperature.", deviceLabels, nil)
	descGPUMemUsed = prometheus.NewDesc("spare_gpu_memory_used_bytes", "GPU memory in use.", deviceLabels, nil)
	descGPUMemSize = prometheus.NewDesc("spare_gpu_memory_total_bytes", "GPU memory in all.", deviceLabels, nil)
	descGPUPower   = prometheus.NewDesc("spare_gpu_power_watts", "GPU power draw.", deviceLabels, nil)
	descGPULimit   = prometheus.NewDesc("spare_gpu_power_limit_watts", "GPU power limit in force.", deviceLabels, nil)
)

// deviceCollector reports each GPU's latest reading (what /v1/telemetry
// keeps). The CPU standing in for a GPU has no readings and is left out.
type deviceCollector struct{ h *telemetryHistory }

func (c deviceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGPUUtil, descGPUTemp, descGPUMemUsed, descGPUMemSize, descGPUPower, descGPULimit} {
		ch <- d
	}
}

func (c deviceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, dev := range c.h.latestSnapshot().Devices {
		if dev.UUID == CPUDeviceUUID {
			continue
		}
		l := []string{strconv.Itoa(dev.Index), dev.UUID, dev.Name}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
		}
		gauge(descGPUUtil, float64(dev.Utilization)/100)
		gauge(descGPUTemp, float64(dev.TemperatureC))
		gauge(descGPUMemUsed, float64(dev.MemoryUsed))
		gauge(descGPUMemSize, float64(dev.MemoryTotal))
		gauge(descGPUPower, float64(dev.PowerMW)/1000)
		gauge(descGPULimit, float64(dev.PowerLimitMW)/1000)
	}
}

// ledgerScrapeTimeout bounds reading the ledger for one scrape.
const ledgerScrapeTimeout = 5 * time.Second

const unitsHelp = " In the token's smallest unit (1 = 0.000001 " + wallet.Unit + ")."

var (
	descLedgerUp = prometheus.NewDesc("spare_ledger_up", "1 when the ledger could be read for this scrape, 0 when not (the log says why).", nil, nil)
	descMoney    = map[string]*prometheus.Desc{}
	moneyNames   = []struct{ name, help string }{
		{"earned", "Earned: the best voucher of each channel paying this wallet."},
		{"settled", "Of the earned, confirmed settled."},
		{"pending", "Earned and not yet settled."},
		{"paid_out", "Sent out of the wallet."},
		{"spent", "Paid: the best voucher of each channel this wallet pays from."},
		{"deposited", "Deposited into channels this wallet pays from."},
		{"refunded", "Returned to this wallet from closed channels."},
	}
	descReceipts    = prometheus.NewDesc("spare_receipts_total", "Signed usage receipts in the ledger, by this node's side: provider (signed here) or requester (received).", []string{"side"}, nil)
	descVouchers    = prometheus.NewDesc("spare_vouchers_total", "Signed vouchers in the ledger, by this node's side: provider (received) or requester (signed here).", []string{"side"}, nil)
	descAgreements  = prometheus.NewDesc("spare_agreements_total", "Signed agreements in the ledger.", nil, nil)
	descSettleTxs   = prometheus.NewDesc("spare_settlement_transactions_total", "Settlements sent as chain transactions (a reorg's dropped ones included).", nil, nil)
	descSettleGas   = prometheus.NewDesc("spare_settlement_gas_used_total", "Gas the settlement transactions used.", nil, nil)
	descWalletLabel = []string{"address"}
)

func init() {
	for _, m := range moneyNames {
		descMoney[m.name] = prometheus.NewDesc("spare_wallet_"+m.name+"_units", m.help+unitsHelp, descWalletLabel, nil)
	}
}

// ledgerCollector reads the wallet's figures and record counts from the
// ledger at each scrape.
type ledgerCollector struct{ d *Daemon }

func (c ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLedgerUp
	for _, m := range moneyNames {
		ch <- descMoney[m.name]
	}
	for _, d := range []*prometheus.Desc{descReceipts, descVouchers, descAgreements, descSettleTxs, descSettleGas} {
		ch <- d
	}
}

func (c ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerScrapeTimeout)
	defer cancel()
	me, err := c.d.walletAddress()
	var b wallet.Balance
	var n wallet.Counts
	if err == nil {
		b, err = c.d.cfg.Wallet.Ledger.Balance(ctx, me)
	}
	if err == nil {
		n, err = c.d.cfg.Wallet.Ledger.Counts(ctx, me)
	}
	if err != nil {
		c.d.log.Warn("reading the ledger for /metrics", "err", err)
		ch <- prometheus.MustNewConstMetric(descLedgerUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descLedgerUp, prometheus.GaugeValue, 1)
	addr := me.Hex()
	for name, v := range map[string]wallet.Amount{"earned": b.Earned, "settled": b.Settled, "pending": b.Pending, "paid_out": b.PaidOut,
		"spent": b.Spent, "deposited": b.Deposited, "refunded": b.Refunded} {
		ch <- prometheus.MustNewConstMetric(descMoney[name], prometheus.GaugeValue, float64(v), addr)
	}
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	counter(descReceipts, float64(n.ReceiptsSigned), "provider")
	counter(descReceipts, float64(n.ReceiptsReceived), "requester")
	counter(descVouchers, float64(n.VouchersReceived), "provider")
	counter(descVouchers, float64(n.VouchersSigned), "requester")
	counter(descAgreements, float64(n.Agreements))
	counter(descSettleTxs, float64(n.SettlementTxs))
	counter(descSettleGas, float64(n.SettlementGas))
}
