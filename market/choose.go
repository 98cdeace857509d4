package market

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Replica weights: the chance of a provider being drawn for a replica is
// its weight over the sum of the weights of those that may be drawn.
const (
	// weightRecentlyInvalid is for a peer that returned an invalid result
	// in the last week (invalidMemory), whatever came after.
	weightRecentlyInvalid = 1
	// weightNew is for a peer without a valid result; each consecutive
	// valid result adds weightPerValid, up to TrustThreshold of them: an
	// established peer weighs 2 + 2×10 = 22, eleven newcomers.
	weightNew      = 2
	weightPerValid = 2
)

// ReplicaWeight is how strongly the requester's trust record t favours a
// provider when replicas are drawn (see ChooseReplicas).
func ReplicaWeight(t Trust, now time.Time) uint64 {
	if !t.LastInvalid.IsZero() && now.Sub(t.LastInvalid) < invalidMemory {
		return weightRecentlyInvalid
	}
	return weightNew + weightPerValid*uint64(min(t.ConsecutiveValid, TrustThreshold))
}

// ChooseReplicas draws up to k providers for a job's replicas from
// ranked, the acceptable ones (Rank: they fit the job at a rate within
// its max price): at random, weighted by trust (ReplicaWeight), never a
// peer in exclude (tried already), and each from network origins that no
// other chosen provider and nothing in used (origins that replicas
// already running hold) shares. Price plays no part beyond being
// acceptable: the cheapest providers cannot buy every seat of a vote.
//
// A candidate whose Origins is empty (not connected yet, so its address is
// unknown) may be drawn, as an origin of its own: the caller checks its
// origin once connected, and drops it if it is taken. rng makes the draws;
// it should be unpredictable to providers (seeded from crypto/rand).
// Fewer than k found: those found and an error wrapping ErrNoProvider
// that says how many providers and origins were left to choose from.
func ChooseReplicas(ranked []Candidate, k int, exclude map[string]bool, used map[Origin]bool, now time.Time, rng *rand.Rand) ([]Candidate, error) {
	taken := map[Origin]bool{}
	for o := range used {
		taken[o] = true
	}
	chosen := map[string]bool{}
	var out []Candidate
	for len(out) < k {
		var total uint64
		for _, c := range ranked {
			if eligible(c, exclude, chosen, taken) {
				total += ReplicaWeight(c.Trust, now)
			}
		}
		if total == 0 {
			break
		}
		draw := rng.Uint64N(total)
		for _, c := range ranked {
			if !eligible(c, exclude, chosen, taken) {
				continue
			}
			w := ReplicaWeight(c.Trust, now)
			if draw >= w {
				draw -= w
				continue
			}
			out = append(out, c)
			chosen[c.Peer] = true
			for _, o := range c.Origins {
				taken[o] = true
			}
			break
		}
	}
	if len(out) < k {
		peers, origins := 0, map[Origin]bool{}
		unknown := 0
		for _, c := range ranked {
			if exclude[c.Peer] {
				continue
			}
			peers++
			if len(c.Origins) == 0 {
				unknown++
			}
			for _, o := range c.Origins {
				origins[o] = true
			}
		}
		return out, fmt.Errorf("%w: %d of %d provider(s) found from distinct network origins (a /24 or /48 each, none running another replica); %d untried provider(s) fit, from %d origin(s)",
			ErrNoProvider, len(out), k, peers, len(origins)+unknown)
	}
	return out, nil
}

func eligible(c Candidate, exclude, chosen map[string]bool, taken map[Origin]bool) bool {
	return !exclude[c.Peer] && !chosen[c.Peer] && !sharesOrigin(c.Origins, taken)
}
