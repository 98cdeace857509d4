package market

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrNoProvider reports that too few providers fit a job.
var ErrNoProvider = errors.New("no provider can run the job")

// Offer is a provider as the requester sees it: from its capacity ad plus
// what the requester measured. A zero VRAM, CPUs, Memory or Disk means the
// ad does not say, and does not filter; GPUs is always meaningful.
type Offer struct {
	Peer    string
	GPUs    uint32
	VRAM    ByteSize
	CPUs    MilliCPU
	Memory  ByteSize
	Disk    ByteSize
	Price   Price
	Latency time.Duration // measured round trip; zero: not measured
}

// Candidate is an offer that fits a job, with its rate and ranking score.
type Candidate struct {
	Offer
	Rate  uint64 // per second for the job, rounded up
	Trust Trust
	// Origins are the networks the requester sees the peer's connections
	// come from (OriginsOf); empty: not connected, not known.
	Origins []Origin
	// Score ranks candidates, lower first: see Rank.
	Score uint64
}

// Ranking penalties, in thousandths added to the base of 1000.
const (
	latencyPenaltyPerMs = 1   // per millisecond of measured round trip …
	maxLatencyPenalty   = 500 // … up to +50 %
	unknownLatency      = 250 // not measured: as if 250 ms
	untrustedPenalty    = 250 // fewer than TrustThreshold consecutive valid results
	invalidPenalty      = 1000
	invalidMemory       = 7 * 24 * time.Hour // an invalid result weighs this long
)

// Rank keeps the offers that fit spec (resources, and a rate within
// spec.MaxPrice) and orders them by score, lowest first:
//
//	score = (rate + 1) × (1000 + latency + trust) / 1000
//
// latency is the round trip in ms capped at 500 (250 when unmeasured);
// trust adds 250 for a peer not yet trusted and 1000 for one that returned
// an invalid result in the last week. Ties break on the peer ID, so the
// order is deterministic. trust may be nil.
func Rank(spec *JobSpec, offers []Offer, trust func(peer string) Trust, now time.Time) []Candidate {
	var out []Candidate
	r := spec.Resources
	seen := map[string]bool{}
	for _, o := range offers {
		if seen[o.Peer] || o.Peer == "" {
			continue
		}
		seen[o.Peer] = true
		if r.GPUs > o.GPUs || (r.GPUs > 0 && o.VRAM > 0 && r.VRAM > o.VRAM) ||
			(o.CPUs > 0 && r.CPUs > o.CPUs) || (o.Memory > 0 && r.Memory > o.Memory) ||
			(o.Disk > 0 && r.Disk > o.Disk) {
			continue
		}
		rate, err := o.Price.Rate(r.GPUs, r.CPUs)
		if err != nil || rate > spec.MaxPrice {
			continue
		}
		c := Candidate{Offer: o, Rate: rate}
		if trust != nil {
			c.Trust = trust(o.Peer)
		}
		penalty := uint64(1000)
		if o.Latency <= 0 {
			penalty += unknownLatency
		} else {
			penalty += min(uint64(o.Latency.Milliseconds())*latencyPenaltyPerMs, maxLatencyPenalty)
		}
		if !c.Trust.Trusted() {
			penalty += untrustedPenalty
		}
		if !c.Trust.LastInvalid.IsZero() && now.Sub(c.Trust.LastInvalid) < invalidMemory {
			penalty += invalidPenalty
		}
		c.Score = (rate + 1) * penalty / 1000 // rate ≤ MaxPricePerSec: no overflow
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Peer, b.Peer))
	})
	return out
}

// Pick returns the first k ranked candidates whose peers are not in
// exclude (providers already tried or already running a replica). Peers
// are distinct because Rank keeps one offer per peer.
func Pick(ranked []Candidate, k int, exclude map[string]bool) ([]Candidate, error) {
	var out []Candidate
	for _, c := range ranked {
		if len(out) == k {
			break
		}
		if !exclude[c.Peer] {
			out = append(out, c)
		}
	}
	if len(out) < k {
		return out, fmt.Errorf("%w: %d of %d providers needed fit", ErrNoProvider, len(out), k)
	}
	return out, nil
}

// TrustThreshold is how many consecutive valid results make a peer
// trusted.
const TrustThreshold = 10

// Trust is what a requester knows of a provider's results.
type Trust struct {
	ConsecutiveValid uint32 `json:"consecutive_valid"`
	Valid            uint64 `json:"valid"`
	Invalid          uint64 `json:"invalid"`
	// Inconclusive counts disagreements of replicas the peer took part in
	// that could not be settled (Verdict.Inconclusive): evidence, never a
	// drop in trust.
	Inconclusive uint64    `json:"inconclusive,omitempty"`
	LastInvalid  time.Time `json:"last_invalid,omitzero"`
	Updated      time.Time `json:"updated,omitzero"`
}

// Trusted reports whether the peer's recent record is long enough to run
// a job without a replica (most of the time; see Replicas).
func (t Trust) Trusted() bool { return t.ConsecutiveValid >= TrustThreshold }

// Record counts one checked result.
func (t Trust) Record(valid bool, now time.Time) Trust {
	if valid {
		t.Valid++
		if t.ConsecutiveValid < 1<<31 {
			t.ConsecutiveValid++
		}
	} else {
		t.Invalid++
		t.ConsecutiveValid = 0
		t.LastInvalid = now
	}
	t.Updated = now
	return t
}

// RecordInconclusive counts one disagreement that could not be settled;
// the rest of the record stands.
func (t Trust) RecordInconclusive(now time.Time) Trust {
	t.Inconclusive++
	t.Updated = now
	return t
}

// Replicas is adaptive replication as BOINC does it: how many distinct
// providers should run a job for which the requester asked requested,
// given the trust of the best candidate. A request for two or more is
// kept. A single run is replicated once (2) when the peer is not trusted,
// and, when it is, still spot-checked with probability 1/ConsecutiveValid,
// decided by the caller's random draw, so a trusted peer cannot cheat
// safely.
func Replicas(requested int, best Trust, draw uint64) int {
	if requested >= 2 {
		return requested
	}
	if !best.Trusted() || draw%uint64(best.ConsecutiveValid) == 0 {
		return 2
	}
	return 1
}
