package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/provider/faults"
	"github.com/sparegpu/spare/sandbox"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// Limits of the provider's job protocol handler.
const (
	// MaxSessionsPerPeer is how many job streams one peer may hold open
	// at once (proposals included); more are reset at once.
	MaxSessionsPerPeer = 2
	// MaxSessions bounds job streams from all peers together. When it is
	// reached, the oldest stream still waiting for its proposal or
	// agreement, if it has waited PendingEvictAfter, is reset to admit the
	// new one; otherwise the new one is reset.
	MaxSessions = 32
	// PendingEvictAfter is how long a stream may wait for its proposal or
	// agreement before a newcomer may take its place (a requester sends
	// both within a second or so).
	PendingEvictAfter = 2 * time.Second
	// ProposalTimeout bounds the wait for the proposal; after a quote the
	// agreement is awaited until the quote expires, plus 5 s.
	ProposalTimeout = 30 * time.Second
	// WriteTimeout bounds one message write.
	WriteTimeout = 10 * time.Second
	// StreamSlack is added to a job's max duration for the whole stream's
	// deadline (fetching, the final voucher).
	StreamSlack = 5 * time.Minute
	// FetchMinRate and FetchSlack bound fetching a job's image and inputs
	// from its requester: all of them within FetchSlack plus their
	// declared size at FetchMinRate bytes a second. A requester that
	// drips its image cannot hold the machine, unpaid, any longer.
	FetchMinRate = 1 << 20
	FetchSlack   = 30 * time.Second
	// AdEvery is how often the ad is republished while available; a
	// change of state (the governor publishing) sends one at once. Rare
	// on purpose: every ad reaches every host, so republishing is what
	// ad traffic grows with; a requester asks the providers it finds for
	// their current ad instead (market.QueryAd).
	AdEvery = p2p.AdRepublish
	// AdLifetime is an ad's validity: a withdrawn provider drops out of
	// requesters' lists within it, and sooner from a requester that asks
	// it directly (it answers that it takes no work).
	AdLifetime = p2p.DefaultAdLifetime
)

// Config wires the market's provider side. Host, Wallet, Sandbox and
// DataDir are required; zero fields take the defaults in their comments.
type Config struct {
	Host   *p2p.Host
	Wallet *wallet.Wallet
	// Sandbox imports and pulls the jobs' images (the daemon's).
	Sandbox *sandbox.Sandbox
	// DataDir is the daemon's data directory: jobs' inputs and outputs
	// go under DATA/provider/JOB.
	DataDir string
	// Policy is the owner's terms: price (must be positive: receipts need
	// a rising amount), metering interval (zero: 10 s), limits.
	Policy market.Policy
	// Reserve is what the owner's machine keeps: never offered, never
	// quoted; zero: one core, the larger of 2 GiB and a quarter of the
	// memory, and the larger of 5 GiB and a tenth of the data disk.
	Reserve Reserve
	// Credit is the unpaid-work rule; zero: two intervals, then 30 s frozen.
	Credit market.WalletCredit
	// Capability is the DHT key the provider is found under; empty:
	// "gpu:nvidia" with GPUs, else "cpu".
	Capability string
	// BlobDir holds fetched images and inputs and the outputs served
	// back; empty: DATA/blobs.
	BlobDir string
	// Cache is how much the blob store and the images imported for jobs
	// may keep between jobs, least recently used first out (see
	// retain.go); zero: the larger of MinCache and a twentieth of the
	// data disk. Never so much that the disk's free space falls inside
	// Reserve.Disk.
	Cache market.ByteSize
	// Chain, when set, is where money settles (package wallet/evm's
	// Backend): agreements are signed under its domain, a channel is read
	// on-chain before any work and must cover the job, and the best
	// voucher is settled when a job ends. Nil: the embedded ledger.
	Chain Chain
	// Token is the network preset's token: a channel deposited in another
	// is refused (with Chain only).
	Token common.Address
	// IOUs says whose IOUs are taken without a chain on the public
	// network; the zero value: only the host's allow-list's. SetIOUs
	// changes it.
	IOUs IOUs
	Log  *slog.Logger
	// Faults makes the provider dishonest: it exists so that tests
	// (internal/hostile) can play a hostile provider against the real
	// requester. Nil is honest behaviour; the daemon never sets it.
	Faults *faults.Provider
}

// Chain is the on-chain side of a provider's money.
type Chain interface {
	Domain() wallet.Domain
	// CheckFunding reads a channel on-chain and refuses one that does not
	// pay this wallet, is not signed by signer, is closing, or holds less
	// than maxCost beyond what is claimed; it records the channel.
	CheckFunding(ctx context.Context, id common.Hash, signer common.Address, maxCost wallet.Amount) (wallet.ChannelInfo, error)
	// Channel reads a channel as the escrow holds it (wallet.ErrNotFound:
	// there is none).
	Channel(ctx context.Context, id common.Hash) (evm.OnChain, error)
	// SettleBest settles the best voucher held for a channel.
	SettleBest(ctx context.Context, id common.Hash) (wallet.Amount, error)
}

// Daemon is what the provider needs from the daemon it works for
// (*node.Daemon): the governor's state, and starting a job under it.
type Daemon interface {
	Status() localapi.Status
	StartJob(ctx context.Context, spec sandbox.JobSpec, devices []string, outputDir string) (*node.RunningJob, error)
	// TagJobEnergy names a job as the wallet's history does, so that its
	// energy shows beside what it earned.
	TagJobEnergy(job, walletJob string)
}

var _ Daemon = (*node.Daemon)(nil)

// Provider runs the provider side of /spare/job/1.0.0 for a daemon: it
// quotes from the governor's state, countersigns agreements, fetches
// images and inputs by digest, runs jobs under the governor, meters them
// with signed receipts, collects vouchers, and publishes capacity ads
// while the governor says Available. It is the daemon's market
// (node.Market).
type Provider struct {
	cfg    Config
	log    *slog.Logger
	d      Daemon
	key    *wallet.Key
	me     common.Address
	domain wallet.Domain
	store  p2p.FileStore
	stand  *standings // each requester's unpaid work and paid jobs

	faults faults.Provider // cfg.Faults, or the zero (honest) value

	fetchRate  int64         // FetchMinRate (tests lower the bound)
	fetchSlack time.Duration // FetchSlack
	closePoll  time.Duration // ClosePollEvery (tests shorten it)

	mu         sync.Mutex
	adm        admissions
	reserved   bool                            // a job holds the machine (one at a time)
	notices    map[string]chan governor.Notice // by sandbox job ID
	available  bool
	adGPUs     []string
	adWake     chan struct{}
	price      *market.Price      // the owner's price floor (nil: cfg.Policy's)
	kinds      []market.Kind      // the owner's allowed kinds (nil: cfg.Policy's)
	floor      market.Price       // the owner's "never work at a loss" floor (zero: none)
	belowCost  []time.Time        // when jobs were refused below it, the last hour's
	jobMeta    map[string]jobMeta // running jobs' market side, by sandbox job ID
	promised   []promise          // prices of ads still valid, oldest first
	images     imageCache         // archives already imported
	ret        *retainer          // what is kept between jobs (set by Serve)
	ious       IOUs               // whose IOUs are taken (SetIOUs)
	iouRefused time.Time          // when a stranger's IOUs were last refused
	wg         sync.WaitGroup
	ctx        context.Context
}

var _ node.Market = (*Provider)(nil)

// New unlocks the wallet key; give it to the daemon as its market
// (node.DaemonConfig.Market) and run it with Serve.
func New(cfg Config) (*Provider, error) {
	if cfg.Host == nil || cfg.Wallet == nil || cfg.Sandbox == nil || cfg.DataDir == "" {
		return nil, errors.New("provider: Host, Wallet, Sandbox and DataDir are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Policy.Price == (market.Price{}) {
		return nil, errors.New("provider: a price is required (receipts need a rising amount)")
	}
	key, err := cfg.Wallet.Key()
	if err != nil {
		return nil, err
	}
	me, err := cfg.Wallet.Address()
	if err != nil {
		return nil, err
	}
	ls, err := cfg.Wallet.LedgerSettlement()
	if err != nil {
		return nil, err
	}
	stand, err := openStandings(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	domain := ls.Domain
	if cfg.Chain != nil && cfg.Token == (common.Address{}) {
		return nil, errors.New("provider: a Chain needs the network's Token (channels in other tokens are refused)")
	}
	if cfg.Chain != nil {
		domain = cfg.Chain.Domain()
	}
	p := &Provider{cfg: cfg, log: cfg.Log.With("component", "provider"), key: key, me: me, domain: domain, stand: stand,
		adm:     newAdmissions(streamLimits{perPeer: MaxSessionsPerPeer, total: MaxSessions, proposal: ProposalTimeout, evictAfter: PendingEvictAfter}),
		notices: map[string]chan governor.Notice{}, adWake: make(chan struct{}, 1),
		fetchRate: FetchMinRate, fetchSlack: FetchSlack, closePoll: ClosePollEvery}
	if cfg.Faults != nil {
		p.faults = *cfg.Faults
	}
	p.SetIOUs(cfg.IOUs)
	return p, nil
}

// Payee is the address vouchers pay.
func (p *Provider) Payee() common.Address { return p.me }

// Describe fills the status fields the provider knows (node.Market).
func (p *Provider) Describe(s *localapi.Status) {
	s.PeerID = p.cfg.Host.ID().String()
	s.Addrs = append(s.Addrs, p.cfg.Host.ListenAddrs()...)
	s.Network, s.Pool, s.SparePeers = p.cfg.Host.Network(), p.cfg.Host.Pool(), p.cfg.Host.SparePeers()
	r := p.cfg.Host.Reachability()
	s.Reach, s.ReachHint = string(r.Reach), r.Hint
	s.HolePunches, s.HolePunchFails = p.cfg.Host.HolePunches()
	s.BelowCost = p.belowCostLine(time.Now())
	p.describeIOUs(s, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	y, m, day := time.Now().UTC().Date()
	rows, err := p.cfg.Wallet.Ledger.History(ctx, p.me, wallet.ByDay, time.Date(y, m, day, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return
	}
	var earned wallet.Amount
	for _, r := range rows {
		earned += r.Earned
	}
	s.EarnedToday = earned.String()
}

// Serve handles job streams and keeps the ad current until ctx ends,
// then waits (bounded) for running sessions to send their final
// receipts. d must have been built with this provider as its Market.
func (p *Provider) Serve(ctx context.Context, d Daemon) error {
	dir := p.cfg.BlobDir
	if dir == "" {
		dir = filepath.Join(p.cfg.DataDir, "blobs")
	}
	store := p2p.FileStore{Dir: dir}
	ret := &retainer{jobsDir: filepath.Join(p.cfg.DataDir, "provider"), store: store, images: p.cfg.Sandbox,
		owed: p.cfg.Host.OwedBlobs, budget: diskBudget(p.cfg.DataDir, p.cfg.Cache, p.cfg.Reserve.Disk, p.log), log: p.log}
	sctx, cancel := context.WithTimeout(ctx, SweepTimeout)
	if err := ret.atStart(sctx); err != nil {
		p.log.Warn("removing what earlier runs left", "err", err)
	}
	cancel()
	p.mu.Lock()
	p.d, p.ctx, p.store, p.ret = d, ctx, store, ret
	p.mu.Unlock()
	h := p.cfg.Host.LibP2P()
	p.cfg.Host.ServeBlobs(p.store)
	h.SetStreamHandler(market.ProtocolID, p.handle)
	market.ServeAds(p.cfg.Host, p.ad)
	p.log.Info("taking job proposals", "peer", p.cfg.Host.ID(), "payee", p.me.Hex(), "price", p.policy().Price)
	adsDone := make(chan struct{})
	go func() { defer close(adsDone); p.adLoop(ctx) }()
	<-ctx.Done()
	h.RemoveStreamHandler(market.ProtocolID)
	h.RemoveStreamHandler(market.AdProtocol)
	<-adsDone
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(market.FinalVoucherWait + 15*time.Second):
		p.log.Warn("sessions still open at shutdown")
	}
	return nil
}

// handle admits a stream within the per-peer and total limits (see
// admissions) and runs its session.
func (p *Provider) handle(s network.Stream) {
	from := s.Conn().RemotePeer()
	p.mu.Lock()
	if p.ctx == nil || p.ctx.Err() != nil {
		p.adm.stats.Refused++
		p.mu.Unlock()
		_ = s.Reset()
		return
	}
	adm, evict := p.adm.admit(from, time.Now(), func() { _ = s.Reset() })
	if adm != nil {
		p.wg.Add(1)
	}
	p.mu.Unlock()
	if evict != nil {
		evict()
	}
	if adm == nil {
		_ = s.Reset()
		return
	}
	defer func() {
		p.mu.Lock()
		p.adm.release(adm)
		p.mu.Unlock()
		p.wg.Done()
	}()
	r := &providerRun{p: p, s: s, peer: from, adm: adm, log: p.log.With("peer", from.String())}
	r.run(p.ctx)
}

// settle marks a stream past its agreement: it is never evicted.
func (p *Provider) settle(a *admission) {
	p.mu.Lock()
	p.adm.settle(a)
	p.mu.Unlock()
}

// Streams reports the job streams admitted, refused and evicted so far.
func (p *Provider) Streams() StreamStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.adm.stats
}

// capacity is what can be quoted now, from the governor's state.
func (p *Provider) capacity() (market.Capacity, []localapi.Device) {
	st := p.d.Status()
	cpus, mem := offer(sandbox.LocalHost(), p.cfg.Reserve)
	free, err := diskOffer(p.cfg.DataDir, p.cfg.Reserve.Disk)
	if err != nil {
		p.log.Warn("offering no disk", "err", err)
	}
	c := market.Capacity{CPUs: cpus, Memory: mem, Disk: free}
	var usable []localapi.Device
	for _, dev := range st.Devices {
		if dev.Usable {
			usable = append(usable, dev)
			if dev.UUID != node.CPUDeviceUUID {
				c.GPUs++
			}
		}
	}
	p.mu.Lock()
	reserved := p.reserved
	p.mu.Unlock()
	switch {
	case st.State == localapi.StatePaused || st.State == localapi.StateOff:
		c.Paused, c.Reason = true, st.Sentence
	case st.State != localapi.StateAvailable || reserved || len(usable) == 0:
		c.Busy, c.Reason = true, st.Sentence
	}
	return c, usable
}

func (p *Provider) reserve() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reserved {
		return false
	}
	p.reserved = true
	return true
}

func (p *Provider) release() {
	p.mu.Lock()
	p.reserved = false
	p.mu.Unlock()
}

// Notify passes a governor notice to the job's session.
func (p *Provider) Notify(_ context.Context, job string, n governor.Notice) error {
	p.mu.Lock()
	ch := p.notices[job]
	p.mu.Unlock()
	if ch == nil {
		return fmt.Errorf("notice for job %s: no session", job)
	}
	select {
	case ch <- n:
	default:
		return fmt.Errorf("notice for job %s: session not reading", job)
	}
	return nil
}

func (p *Provider) watch(job string) chan governor.Notice {
	ch := make(chan governor.Notice, 8)
	p.mu.Lock()
	p.notices[job] = ch
	p.mu.Unlock()
	return ch
}

func (p *Provider) unwatch(job string) {
	p.mu.Lock()
	delete(p.notices, job)
	p.mu.Unlock()
}
