package market

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ReplicaResult is what one provider returned for a replicated job.
type ReplicaResult struct {
	Peer     string
	ExitCode int
	Outputs  []Output
}

// Difference is one output path on which replicas disagree: the digest each
// peer returned, "" where a peer returned no such file. Path "exit code"
// reports differing exit codes, with the code in place of a digest.
type Difference struct {
	Path    string
	Digests map[string]Digest
}

// Verdict is the comparison of a job's replicas.
type Verdict struct {
	// Agreed: every replica returned the same exit code and outputs.
	Agreed bool
	// Majority are the peers of the strict majority's result, if any;
	// Dissenters the others. Without a strict majority both are empty.
	Majority   []string
	Dissenters []string
	// Inconclusive: the replicas disagree, and either no result has a
	// strict majority or the majority has no provider of established
	// trust (Trust.Trusted before this job). Identities are cheap: a
	// majority of newcomers may be one party's sybils outvoting an honest
	// provider. No result is accepted and nobody's trust rises or drops;
	// each peer's record counts one inconclusive disagreement.
	Inconclusive bool
	// Peers are every replica's peer, sorted.
	Peers []string
	// Differences lists every disagreement, sorted by path.
	Differences []Difference
}

// String is the verdict as a person reads it.
func (v Verdict) String() string {
	if v.Agreed {
		return fmt.Sprintf("%d replicas agree", len(v.Majority))
	}
	var b strings.Builder
	switch {
	case len(v.Majority) == 0:
		b.WriteString("inconclusive: replicas disagree with no majority")
	case v.Inconclusive:
		fmt.Fprintf(&b, "inconclusive: majority %v has no provider of established trust, dissent %v", v.Majority, v.Dissenters)
	default:
		fmt.Fprintf(&b, "majority %v, dissent %v", v.Majority, v.Dissenters)
	}
	for _, d := range v.Differences {
		fmt.Fprintf(&b, "; %s:", d.Path)
		for _, p := range sortedDigestKeys(d.Digests) {
			dg := d.Digests[p]
			if dg == "" {
				dg = "(missing)"
			}
			fmt.Fprintf(&b, " %s=%s", p, dg)
		}
	}
	return b.String()
}

// CompareReplicas groups results by their exit code and output digests
// (paths in any order) and reports agreement or the disagreement. A
// disagreement is conclusive only when a strict majority includes a peer
// for which established reports true (nil: none is); otherwise it is
// Inconclusive.
func CompareReplicas(results []ReplicaResult, established func(peer string) bool) Verdict {
	key := func(r ReplicaResult) string {
		outs := slices.Clone(r.Outputs)
		slices.SortFunc(outs, func(a, b Output) int { return strings.Compare(a.Path, b.Path) })
		var b strings.Builder
		fmt.Fprintf(&b, "exit=%d", r.ExitCode)
		for _, o := range outs {
			fmt.Fprintf(&b, "\x00%s\x00%s", o.Path, o.Digest)
		}
		return b.String()
	}
	groups := map[string][]string{}
	var v Verdict
	for _, r := range results {
		k := key(r)
		groups[k] = append(groups[k], r.Peer)
		v.Peers = append(v.Peers, r.Peer)
	}
	slices.Sort(v.Peers)
	for _, peers := range groups {
		if 2*len(peers) > len(results) {
			v.Majority = slices.Sorted(slices.Values(peers))
		}
	}
	if len(groups) <= 1 {
		v.Agreed = len(results) > 0
		return v
	}
	for _, r := range results {
		if !slices.Contains(v.Majority, r.Peer) && len(v.Majority) > 0 {
			v.Dissenters = append(v.Dissenters, r.Peer)
		}
	}
	slices.Sort(v.Dissenters)
	v.Inconclusive = established == nil || !slices.ContainsFunc(v.Majority, established)
	v.Differences = differences(results)
	return v
}

func differences(results []ReplicaResult) []Difference {
	paths := map[string]map[string]Digest{}
	codes := map[string]Digest{}
	for _, r := range results {
		codes[r.Peer] = Digest(fmt.Sprint(r.ExitCode))
		for _, o := range r.Outputs {
			if paths[o.Path] == nil {
				paths[o.Path] = map[string]Digest{}
			}
			paths[o.Path][r.Peer] = o.Digest
		}
	}
	var out []Difference
	if distinct(codes, results) {
		out = append(out, Difference{Path: "exit code", Digests: codes})
	}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		if distinct(paths[p], results) {
			for _, r := range results {
				if _, ok := paths[p][r.Peer]; !ok {
					paths[p][r.Peer] = ""
				}
			}
			out = append(out, Difference{Path: p, Digests: paths[p]})
		}
	}
	return out
}

// distinct reports whether the peers of results do not all map to one value.
func distinct(m map[string]Digest, results []ReplicaResult) bool {
	first, ok := m[results[0].Peer]
	for _, r := range results[1:] {
		if d, has := m[r.Peer]; has != ok || d != first {
			return true
		}
	}
	return false
}

// RecordVerdict updates trust. Replicas that agree all had a valid
// result. A conclusive disagreement: the majority's peers had a valid
// result, the dissenters an invalid one. An inconclusive one changes
// nobody's trust, since nobody can tell which side was right; each peer's
// record counts it as inconclusive.
func RecordVerdict(store TrustStore, v Verdict, now time.Time) error {
	if v.Inconclusive {
		for _, p := range v.Peers {
			if _, err := store.RecordInconclusive(p, now); err != nil {
				return err
			}
		}
		return nil
	}
	for _, p := range v.Majority {
		if _, err := store.Record(p, true, now); err != nil {
			return err
		}
	}
	for _, p := range v.Dissenters {
		if _, err := store.Record(p, false, now); err != nil {
			return err
		}
	}
	return nil
}

func sortedDigestKeys(m map[string]Digest) []string { return slices.Sorted(maps.Keys(m)) }

// Output is one file a job produced, identified by digest.
type Output struct {
	Path   string   `json:"path"` // under /output
	Digest Digest   `json:"digest"`
	Size   ByteSize `json:"size"`
}
