package market

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/p2p/wire"
	"github.com/sparegpu/spare/wallet"
)

// Requester submits jobs: `spare submit` and tests. Host, Wallet and
// Blobs are required.
type Requester struct {
	Host   *p2p.Host
	Wallet *wallet.Wallet
	// Blobs holds the image and inputs the spec names by digest; Submit
	// serves it to providers on /spare/blob/1.0.0.
	Blobs p2p.FileStore
	// Serve, when set, is served to providers instead of Blobs (which
	// Submit still checks): tests play a requester that serves its blobs
	// slowly or not at all.
	Serve p2p.BlobSource
	// Trust keeps per-provider records; nil: in memory for this call.
	Trust TrustStore
	// Channels opens the payment channel of each attempt; nil: the
	// wallet's embedded ledger backend (IOUs). On a chain it is package
	// wallet/evm's Backend, which deposits before the agreement is sent.
	Channels ChannelOpener
	Log      *slog.Logger

	known knownAds // ads heard by direct query, for the next discovery
	// warm is set once a discovery has asked its peers and heard them
	// out: from then on the ads it keeps are the field, and a match may be
	// made from them at once.
	warm atomic.Bool
}

// ChannelLender is a ChannelOpener that may hand back a channel opened
// before (on a chain, a funded channel is reused job after job): Release
// ends one job's use of it, so that no two jobs sign vouchers on one
// channel at once.
type ChannelLender interface {
	ChannelOpener
	// Lend hands out a channel to payee holding at least need beyond what
	// its vouchers claim (reused as it is), or one topped up or opened to
	// hold deposit; free is what it holds beyond the claims. Its deposit
	// is locked for at least lock from now (LockingOpener).
	Lend(ctx context.Context, payee, signer common.Address, need, deposit wallet.Amount, lock time.Duration) (ch wallet.ChannelInfo, free wallet.Amount, err error)
	Release(id common.Hash)
}

// ChannelOpener opens a payment channel from this wallet to payee whose
// vouchers signer signs (wallet.Settlement's Open).
type ChannelOpener interface {
	Open(ctx context.Context, payee, signer common.Address, deposit wallet.Amount) (wallet.ChannelInfo, error)
}

// LockingOpener is a ChannelOpener that can lock a deposit for a time
// (package wallet/evm): a requester locks each channel for its job's
// maximum duration plus LockSlack, so that its own close request cannot
// cut the provider's time to settle, and a provider can check that.
type LockingOpener interface {
	OpenFor(ctx context.Context, payee, signer common.Address, deposit wallet.Amount, lock time.Duration) (wallet.ChannelInfo, error)
}

// LockSlack is added to a job's maximum duration when locking its
// deposit: the agreement's start comes after the channel is opened.
const LockSlack = 15 * time.Minute

// SubmitOptions tune Submit. The zero value works.
type SubmitOptions struct {
	// Deposit is put in each provider's payment channel; zero: the
	// quoted job's maximum cost.
	Deposit wallet.Amount
	// OutputDir receives the outputs, in a directory created fresh for the
	// job, OutputDir/<job-id>; empty: they are not fetched.
	OutputDir string
	// OutputOwner, when set, is given the job's output directory and
	// files (a daemon running as root fetching for a local user); nil:
	// they belong to this process's user.
	OutputOwner *Owner
	// Discovery bounds the search for providers; zero: DefaultDiscovery.
	Discovery time.Duration
	// MaxAttempts is how many providers one replica tries; zero: 3.
	MaxAttempts int
	// Stdout and Stderr receive the job's logs, as the provider sent
	// them; nil: discarded.
	Stdout, Stderr io.Writer
	// Notes receives the requester's own lines ("spare: provider …: job
	// frozen"), kept apart from the provider's output so that a printer
	// can mark which is which; nil: Stderr. They may quote what a
	// provider said (a reason, an error): escape them for a terminal.
	Notes io.Writer
	// Capability is the DHT key providers are looked up under; empty:
	// "gpu:nvidia" for GPU jobs, else "cpu".
	Capability string
	// Progress, when set, receives reports of what Submit is doing, for
	// a person watching (providers heard from, uploads, the job running,
	// downloads); it is called from several goroutines and must not
	// block. Nil: none.
	Progress func(Progress)
	// StopPayingAfter makes the requester stop answering receipts after
	// this many (zero: pay every one; negative: pay none). For tests and
	// demonstrations of the provider's credit limit.
	StopPayingAfter int
}

// DefaultDiscovery is how long Submit looks for providers by default.
const DefaultDiscovery = 20 * time.Second

// Timeouts of the requester's side of a job stream.
const (
	QuoteTimeout = 30 * time.Second
	requestSlack = 5 * time.Minute
	// Once enough providers fit, discovery goes on for settleDiscover,
	// and then while ad queries are still in flight (answers to those
	// already sent for, usually all arriving together), up to
	// maxSettleDiscover: the match is made from the whole field, not from
	// whichever providers answered first.
	settleDiscover    = 200 * time.Millisecond
	maxSettleDiscover = time.Second
)

// ErrReplicasDisagree reports replicas whose results differ with no
// strict majority, or a majority without a provider of established trust
// (Verdict.Inconclusive): no result is accepted and no output fetched.
var ErrReplicasDisagree = errors.New("replicas disagree")

// ErrProviderLost reports an attempt that ended without a result the
// requester accepts: the provider went away, was preempted, or failed.
var ErrProviderLost = errors.New("provider lost the job")

// ErrRelayOnly reports a provider reached only through a relay: hole
// punching gave no direct connection (it may be behind a symmetric NAT),
// and a job's streams never go through a relay. The next provider is
// tried.
var ErrRelayOnly = p2p.ErrRelayOnly

// RelayOnlyFix is what the owner of a provider refused as relay-only
// can do about it, in the words `spare submit` prints.
const RelayOnlyFix = "its router gives every connection a new port (likely a symmetric NAT), so hole punching fails and jobs never run through a relay; " +
	"its owner can turn on UPnP in the router or forward a port to that computer (spare status there says which)"

// ErrOutputBudget reports a result whose outputs are larger than the
// job's max_output: nothing is fetched and the provider is marked in the
// trust record; it keeps only what was receipted.
var ErrOutputBudget = errors.New("outputs over the job's budget")

// ErrBaitAndSwitch reports a provider that quoted more than the ad it was
// chosen by: an ad's price is a commitment for its lifetime. The
// requester refuses the quote, marks the provider in its trust record and
// tries the next one.
var ErrBaitAndSwitch = errors.New("the provider quoted more than its ad")

// SubmitOutput is one output of the accepted result.
type SubmitOutput struct {
	Path   string `json:"path"` // relative to /output in the job, and to OutputDir in SubmitResult
	SHA256 string `json:"sha256"`
	File   string `json:"file,omitempty"` // where it was written; empty: not fetched
}

// SubmitResult is a submitted job's outcome (`spare submit --json`).
type SubmitResult struct {
	Job      string         `json:"job"`
	Provider string         `json:"provider"`
	ExitCode int            `json:"exit_code"`
	Cost     string         `json:"cost"`       // currency units, all attempts and replicas
	Units    uint64         `json:"cost_units"` // the same in the token's smallest unit
	Outputs  []SubmitOutput `json:"outputs"`
	// OutputDir is the directory created for this job's outputs,
	// SubmitOptions.OutputDir/<job-id>; empty: none were fetched.
	OutputDir string      `json:"output_dir,omitempty"`
	Attempts  int         `json:"attempts"`
	Error     ResultError `json:"error,omitempty"`   // the provider's code, e.g. timeout
	Verdict   string      `json:"verdict,omitempty"` // replicas: agreement or the disagreement
	// Inconclusive: the replicas disagree and nobody can tell who was
	// right (no strict majority, or none with a provider of established
	// trust): nothing is accepted and nobody's trust changes.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// SpotCheck: a job asked to run once ran a second time, on a provider
	// drawn at random from another network origin, and the two were
	// compared (see Replicas for how often); when the two differ, a third
	// run from a third origin may break the tie.
	SpotCheck bool     `json:"spot_check,omitempty"`
	Agreed    []string `json:"agreed,omitempty"`  // replicas: the peers whose result was accepted
	Dissent   []string `json:"dissent,omitempty"` // replicas: the peers outvoted by them
	// Tries lists every attempt, replicas in turn, with what it was paid.
	Tries []Try `json:"tries"`
}

// Try is one attempt of a submitted job on one provider.
type Try struct {
	Replica  int    `json:"replica"` // 0 for the first
	Provider string `json:"provider"`
	Job      string `json:"job,omitempty"` // the job ID; empty if no proposal was answered
	Cost     string `json:"cost"`          // paid for its receipted work, in currency units
	Units    uint64 `json:"cost_units"`
	Error    string `json:"error,omitempty"` // why the next provider was tried; empty for the result
}

// Submit finds providers and runs spec: on the best-ranked one for a job
// asked to run once, spot-checked on a second drawn at random when the
// trust record says so (Replicas); on spec.Replicas drawn at random
// (ChooseReplicas: weighted by trust, each from its own network origin)
// otherwise. Each replica is rescheduled on another provider if its
// provider is lost, at most MaxAttempts times. Submit pays every receipt
// with a voucher recorded before it is sent, compares the replicas' exit
// codes and output digests, and fetches the accepted result's outputs
// into OutputDir: the only replica's, the one all agree on, or one of a
// strict majority that includes a provider with an established record
// (the verdict names the majority and the dissenters, whose trust drops).
// The error wraps ErrNoProvider when no provider could run the job (or
// too few network origins for the replicas), ErrReplicasDisagree when
// replicas differ and nobody can tell who was right (Verdict.Inconclusive).
func (r *Requester) Submit(ctx context.Context, spec *JobSpec, opt SubmitOptions) (SubmitResult, error) {
	if err := spec.Validate(); err != nil {
		return SubmitResult{}, err
	}
	if err := r.CheckBlobs(spec); err != nil {
		return SubmitResult{}, err
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	if r.Trust == nil {
		r.Trust = NewMemTrust()
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 3
	}
	if opt.Stdout == nil {
		opt.Stdout = io.Discard
	}
	if opt.Stderr == nil {
		opt.Stderr = io.Discard
	}
	if opt.Notes == nil {
		opt.Notes = opt.Stderr
	}
	var src p2p.BlobSource = r.Blobs
	if r.Serve != nil {
		src = r.Serve
	}
	if opt.Progress != nil {
		// A source of its own, so that this job's uploads are reported;
		// removed when Submit returns.
		ps := &progressSource{BlobSource: src, report: opt.Progress}
		defer r.Host.StopServing(ps)
		src = ps
	}
	r.Host.ServeBlobs(src)
	me, err := r.Wallet.Address()
	if err != nil {
		return SubmitResult{}, err
	}
	key, err := r.Wallet.Key()
	if err != nil {
		return SubmitResult{}, err
	}
	var ls ChannelOpener = r.Channels
	if ls == nil {
		if ls, err = r.Wallet.LedgerSettlement(); err != nil {
			return SubmitResult{}, err
		}
	}
	k := spec.Replicas
	ads, ranked, err := r.discover(ctx, spec, k, opt)
	if err != nil {
		return SubmitResult{}, err
	}
	x := &submission{r: r, spec: spec, opt: opt, me: me, key: key, ls: ls, ads: ads, ranked: ranked,
		tried: map[string]bool{}, claimed: map[Origin]bool{}, rng: newRand()}
	out := SubmitResult{Outputs: []SubmitOutput{}, Tries: []Try{}}
	plans, err := x.plan(ctx, k, &out)
	if err != nil {
		return out, err
	}
	results := make([]replicaOutcome, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = x.replica(ctx, p.how, p.first)
		}()
	}
	wg.Wait()
	var reps []ReplicaResult
	var done []replicaOutcome
	var firstErr error
	collect := func(i int, o replicaOutcome) {
		for _, tr := range o.tries {
			tr.Replica = i
			out.Tries = append(out.Tries, tr)
		}
		out.Attempts += o.attempts
		out.Units += o.cost
		if o.err != nil {
			firstErr = cmpErr(firstErr, o.err)
			return
		}
		reps = append(reps, ReplicaResult{Peer: o.peer, ExitCode: o.result.ExitCode, Outputs: o.result.Outputs})
		done = append(done, o)
	}
	for i, o := range results {
		collect(i, o)
	}
	established := func(p string) bool { return r.Trust.Trust(p).Trusted() }
	tieBroken := false
	if out.SpotCheck && len(reps) == 2 && CompareReplicas(reps, established).Inconclusive {
		// Two runs that differ settle nothing: a third, from a third
		// origin, may make a majority.
		if o, ok := x.tieBreak(ctx); ok {
			collect(len(results), o)
			tieBroken = true
		}
	}
	out.Cost = wallet.Amount(out.Units).String()
	if len(done) == 0 {
		return out, firstErr
	}
	// The result accepted: the only one, the one all agree on, or one of
	// a strict majority that includes a provider of established trust.
	// Otherwise nothing is accepted: nobody can tell which provider
	// computed the job right.
	pick, same := done[0], done[:1]
	if len(reps) > 1 {
		v := CompareReplicas(reps, established)
		out.Verdict, out.Inconclusive = v.String(), v.Inconclusive
		switch {
		case tieBroken:
			out.Verdict = "spot check, tie broken by a third run: " + out.Verdict
		case out.SpotCheck:
			out.Verdict = "spot check: " + out.Verdict
		}
		if err := RecordVerdict(r.Trust, v, time.Now()); err != nil {
			r.Log.Warn("recording trust", "err", err)
		}
		if v.Inconclusive {
			return out, fmt.Errorf("%w: %s", ErrReplicasDisagree, v)
		}
		out.Agreed, out.Dissent = v.Majority, v.Dissenters
		if !v.Agreed {
			r.Log.Warn("replicas disagree; taking the majority's result", "verdict", v.String())
			fmt.Fprintf(opt.Notes, "spare: replicas disagree: %s\n", v)
		}
		same = nil
		for _, o := range done {
			if slices.Contains(v.Majority, o.peer) {
				same = append(same, o)
			}
		}
		pick = same[0]
	} else if out.SpotCheck {
		out.Verdict = "unverified: the spot check returned no result"
	} else if k > 1 {
		out.Verdict = fmt.Sprintf("unverified: 1 of %d replicas returned a result", k)
	}
	// Fetch from the first provider of the accepted result that serves
	// it: the others returned the same digests.
	var fetchErr error
	for _, o := range same {
		var outputs []SubmitOutput
		var jobDir string
		if outputs, jobDir, fetchErr = r.outputs(ctx, o, opt.OutputDir, opt.OutputOwner, spec.OutputBudget(), opt.Progress); fetchErr == nil {
			pick, out.Outputs, out.OutputDir = o, outputs, jobDir
			break
		}
		r.Log.Warn("fetching outputs", "provider", o.peer, "err", fetchErr)
	}
	out.Job, out.Provider, out.ExitCode, out.Error = string(pick.job), pick.peer, pick.result.ExitCode, pick.result.Error
	return out, fetchErr
}

func cmpErr(prev, err error) error {
	if prev == nil || errors.Is(prev, ErrNoProvider) {
		return err
	}
	return prev
}

// discover collects ads (gossip, and DHT provider records whose peers are
// then asked for their ads) until k providers fit spec and the answers in
// flight are in (see settleDiscover), or the discovery time passes.
func (r *Requester) discover(ctx context.Context, spec *JobSpec, k int, opt SubmitOptions) (map[string]p2p.Ad, []Candidate, error) {
	wait := opt.Discovery
	if wait <= 0 {
		wait = DefaultDiscovery
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	capName := opt.Capability
	if capName == "" {
		capName = "cpu"
		if spec.Resources.GPUs > 0 {
			capName = "gpu:nvidia"
		}
	}
	live := r.Host.Ads(ctx)
	found := r.Host.FindProviders(ctx, capName)
	// Off the ads topic, the volunteers that keep it answer with every ad
	// of the class at once (each checked as a gossiped one), beside the
	// lookup and the queries of the providers it names.
	var batch <-chan p2p.Ad
	if r.Host.PullAds() {
		batch = r.Host.BatchAds(ctx, capName)
	}
	ads := r.known.live(time.Now())
	for _, a := range r.Host.CurrentAds() {
		ads[a.Peer.String()] = a
	}
	// Ask connected peers, and each provider the DHT names, for their ads
	// directly: gossip reaches a newcomer only on the next round. Every
	// query answers on direct: the ad, or a zero ad when the query failed
	// (with gone set when the provider said it takes no work now, which
	// outdates any ad of it heard by gossip).
	type answer struct {
		ad   p2p.Ad
		peer peer.ID
		gone bool
	}
	direct := make(chan answer, 16)
	var queries sync.WaitGroup
	defer func() { cancel(); queries.Wait() }()
	pending := 0
	ask := func(pi peer.AddrInfo) {
		pending++
		queries.Add(1)
		go func() {
			defer queries.Done()
			var ad p2p.Ad
			err := ctx.Err()
			if len(pi.Addrs) > 0 {
				err = r.Host.Connect(ctx, pi)
			}
			if err == nil {
				ad, err = QueryAd(ctx, r.Host, pi.ID)
			}
			var re *wire.RemoteError
			gone := errors.As(err, &re) && re.Code == adUnavailable
			if err != nil {
				r.Log.Debug("asking for an ad", "peer", pi.ID, "err", err)
				ad = p2p.Ad{} // not a provider, or not taking work
			}
			select {
			case direct <- answer{ad: ad, peer: pi.ID, gone: gone}:
			case <-ctx.Done():
			}
		}()
	}
	for _, p := range r.Host.Peers() {
		ask(peer.AddrInfo{ID: p})
	}
	var settle, settleMax <-chan time.Time
	settled := false
	for first := true; ; first = false {
		ranked := Rank(spec, offersOf(ads), r.Trust.Trust, time.Now())
		if first && len(ranked) >= k && r.warm.Load() {
			// A long-running requester (the daemon's) keeps every live
			// ad it heard, by gossip or by asking: waiting would only
			// hear them again. A requester that has not yet asked its
			// peers knows only the ads gossip happened to bring since it
			// connected (one provider's, not a cheaper one's): it asks.
			return ads, ranked, nil
		}
		if len(ranked) >= k && settleMax == nil {
			settle, settleMax = time.After(settleDiscover), time.After(maxSettleDiscover)
		}
		// A host with no DHT peer has no lookup to wait for: the peers
		// it was given (and met on the LAN) are the whole field for now.
		lookupDone := found == nil && batch == nil || r.Host.DHTPeers() == 0
		if settled && pending == 0 && lookupDone {
			r.warm.Store(true)
			return ads, ranked, nil
		}
		select {
		case a, ok := <-live:
			if !ok {
				live = nil
				continue
			}
			ads[a.Peer.String()] = a
			progressFunc(opt.Progress).report(Progress{Stage: StageDiscovering, Providers: len(ads)})
		case a, ok := <-batch:
			if !ok {
				batch = nil
				continue
			}
			ads[a.Peer.String()] = a
			progressFunc(opt.Progress).report(Progress{Stage: StageDiscovering, Providers: len(ads)})
		case pi, ok := <-found:
			if !ok {
				found = nil
				continue
			}
			ask(pi)
		case ans := <-direct:
			pending--
			r.known.put(ans.peer.String(), ans.ad, ans.gone, time.Now())
			if ans.gone {
				delete(ads, ans.peer.String())
			}
			a := ans.ad
			if a.Peer == "" {
				continue
			}
			r.Log.Debug("ad by direct query", "peer", a.Peer, "fits", len(Rank(spec, offersOf(map[string]p2p.Ad{"": a}), nil, time.Now())))
			ads[a.Peer.String()] = a
			progressFunc(opt.Progress).report(Progress{Stage: StageDiscovering, Providers: len(ads)})
		case <-settle:
			settled, settle = true, nil
		case <-settleMax:
			r.warm.Store(true)
			return ads, ranked, nil
		case <-ctx.Done():
			if len(ranked) > 0 && (len(ranked) >= k || ctx.Err() == context.DeadlineExceeded) {
				return ads, ranked, nil
			}
			return nil, nil, fmt.Errorf("%w: %d provider(s) heard from in %s, none fits (resources, max price %d)", ErrNoProvider, len(ads), wait, spec.MaxPrice)
		}
	}
}

// offersOf turns ads into offers. An ad's one price applies per GPU-second
// and per core-second.
func offersOf(ads map[string]p2p.Ad) []Offer {
	var out []Offer
	for id, a := range ads {
		if !common.IsHexAddress(a.Payee) {
			continue
		}
		gpus := uint32(0)
		if a.GPUModel != "" && a.VRAMMiB > 0 {
			gpus = 1
		}
		out = append(out, Offer{Peer: id, GPUs: gpus, VRAM: ByteSize(a.VRAMMiB << 20), CPUs: MilliCPU(a.CPUs) * 1000,
			Memory: ByteSize(a.RAMMiB << 20), Price: Price{PerGPUSecond: a.PricePerSecond, PerCPUSecond: a.PricePerSecond}})
	}
	return out
}

// submission is one Submit call's shared state.
type submission struct {
	r    *Requester
	spec *JobSpec
	opt  SubmitOptions
	me   common.Address
	key  *wallet.Key
	ls   ChannelOpener
	ads  map[string]p2p.Ad

	mu      sync.Mutex
	ranked  []Candidate
	tried   map[string]bool // providers already given an attempt
	claimed map[Origin]bool // network origins of the replicas' providers
	rng     *mrand.Rand     // replica draws and spot checks
}

type replicaOutcome struct {
	peer     string
	peerID   peer.ID
	job      JobID
	result   *Result
	tries    []Try
	attempts int
	cost     uint64
	err      error
}

func shortPeer(p string) string {
	if len(p) > 12 {
		return p[len(p)-8:]
	}
	return p
}

func newJobID() JobID {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return JobID(hex.EncodeToString(b[:]))
}
