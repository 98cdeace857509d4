package market

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var chooseNow = time.Unix(1_700_000_000, 0)

func cand(peer string, t Trust, origins ...Origin) Candidate {
	return Candidate{Offer: Offer{Peer: peer}, Trust: t, Origins: origins}
}

var (
	established     = Trust{ConsecutiveValid: TrustThreshold, Valid: 40}
	recentlyInvalid = Trust{ConsecutiveValid: 3, Valid: 50, Invalid: 1, LastInvalid: chooseNow.Add(-time.Hour)}
)

func TestReplicaWeight(t *testing.T) {
	tests := []struct {
		name string
		t    Trust
		want uint64
	}{
		{"new", Trust{}, 2},
		{"one valid", Trust{ConsecutiveValid: 1, Valid: 1}, 4},
		{"established", established, 22},
		{"long established weighs no more", Trust{ConsecutiveValid: 500}, 22},
		{"invalid in the last week", recentlyInvalid, 1},
		{"invalid long ago", Trust{ConsecutiveValid: 4, LastInvalid: chooseNow.Add(-30 * 24 * time.Hour)}, 10},
	}
	for _, tc := range tests {
		if got := ReplicaWeight(tc.t, chooseNow); got != tc.want {
			t.Errorf("%s: ReplicaWeight = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestChooseReplicas checks what every draw must hold, over many seeds.
func TestChooseReplicas(t *testing.T) {
	tests := []struct {
		name    string
		ranked  []Candidate
		k       int
		exclude []string
		used    []Origin
		// oneOf: each inner list may give at most one chosen peer (one
		// origin); never: peers never chosen.
		oneOf   [][]string
		never   []string
		found   int
		wantErr string
	}{
		{"distinct origins", []Candidate{cand("a", Trust{}, "o1"), cand("b", Trust{}, "o1"), cand("c", Trust{}, "o2")}, 2,
			nil, nil, [][]string{{"a", "b"}}, nil, 2, ""},
		{"sybils on one /24 take one seat", []Candidate{cand("s1", Trust{}, "o9"), cand("s2", Trust{}, "o9"), cand("s3", Trust{}, "o9"),
			cand("h", established, "o1"), cand("n", Trust{}, "o2")}, 3,
			nil, nil, [][]string{{"s1", "s2", "s3"}}, nil, 3, ""},
		{"too few origins", []Candidate{cand("a", Trust{}, "o1"), cand("b", Trust{}, "o1")}, 2,
			nil, nil, [][]string{{"a", "b"}}, nil, 1, "1 of 2 provider(s) found from distinct network origins (a /24 or /48 each, none running another replica); 2 untried provider(s) fit, from 1 origin(s)"},
		{"a peer with two origins blocks both", []Candidate{cand("dual", Trust{}, "o1", "o2"), cand("a", Trust{}, "o1"), cand("b", Trust{}, "o2"), cand("c", Trust{}, "o3")}, 2,
			nil, nil, [][]string{{"dual", "a"}, {"dual", "b"}}, nil, 2, ""},
		{"tried peers are left out", []Candidate{cand("a", established, "o1"), cand("b", Trust{}, "o2"), cand("c", Trust{}, "o3")}, 2,
			[]string{"a"}, nil, nil, []string{"a"}, 2, ""},
		{"origins held by running replicas are left out", []Candidate{cand("a", Trust{}, "o1"), cand("b", Trust{}, "o2"), cand("c", Trust{}, "o3")}, 2,
			nil, []Origin{"o2"}, nil, []string{"b"}, 2, ""},
		{"unknown origins count apart", []Candidate{cand("a", Trust{}), cand("b", Trust{})}, 2,
			nil, nil, nil, nil, 2, ""},
		{"a relayed crowd counts once", []Candidate{cand("r1", Trust{}, OriginRelayed), cand("r2", Trust{}, OriginRelayed), cand("h", Trust{}, "o1")}, 3,
			nil, nil, [][]string{{"r1", "r2"}}, nil, 2, "2 of 3"},
		{"a recently invalid peer is still acceptable", []Candidate{cand("x", recentlyInvalid, "o1"), cand("b", Trust{}, "o2")}, 2,
			nil, nil, nil, nil, 2, ""},
		{"nothing fits", nil, 1, nil, nil, nil, nil, 0, "0 of 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exclude := map[string]bool{}
			for _, p := range tc.exclude {
				exclude[p] = true
			}
			used := map[Origin]bool{}
			for _, o := range tc.used {
				used[o] = true
			}
			for seed := range uint64(200) {
				got, err := ChooseReplicas(tc.ranked, tc.k, exclude, used, chooseNow, rand.New(rand.NewPCG(seed, 1)))
				if tc.wantErr == "" && err != nil || tc.wantErr != "" && (!errors.Is(err, ErrNoProvider) || !strings.Contains(err.Error(), tc.wantErr)) {
					t.Fatalf("seed %d: error %v, want %q", seed, err, tc.wantErr)
				}
				if len(got) != tc.found {
					t.Fatalf("seed %d: chose %d, want %d", seed, len(got), tc.found)
				}
				peers := map[string]bool{}
				origins := map[Origin]bool{}
				for _, c := range got {
					if peers[c.Peer] || slices.Contains(tc.never, c.Peer) {
						t.Fatalf("seed %d: chose %s twice or against the rules: %v", seed, c.Peer, got)
					}
					peers[c.Peer] = true
					for _, o := range c.Origins {
						if origins[o] || used[o] {
							t.Fatalf("seed %d: origin %s twice: %v", seed, o, got)
						}
						origins[o] = true
					}
				}
				for _, group := range tc.oneOf {
					n := 0
					for _, p := range group {
						if peers[p] {
							n++
						}
					}
					if n > 1 {
						t.Fatalf("seed %d: %d of %v chosen, want at most one", seed, n, group)
					}
				}
			}
		})
	}
}

// TestChooseReplicasWeighsTrust draws from one established provider, ten
// new ones (each on its own /24, the best case for a sybil operator) and
// one that returned an invalid result this week, with a fixed seed: each
// is drawn first at its weight's share, and the established provider
// sits in about 77 % of two-replica draws (cheapest-first gave it none:
// the newcomers undercut it).
func TestChooseReplicasWeighsTrust(t *testing.T) {
	ranked := []Candidate{cand("cheater", recentlyInvalid, "o-cheat")}
	for i := range 10 {
		ranked = append(ranked, cand("sybil"+string(rune('0'+i)), Trust{}, Origin("o-sybil"+string(rune('0'+i)))))
	}
	ranked = append(ranked, cand("honest", established, "o-honest"))
	rng := rand.New(rand.NewPCG(2026, 12))
	const n = 20_000
	first := map[string]int{}
	withHonest := 0
	for range n {
		got, err := ChooseReplicas(ranked, 2, nil, nil, chooseNow, rng)
		if err != nil || len(got) != 2 {
			t.Fatalf("ChooseReplicas: %v, %v", got, err)
		}
		first[got[0].Peer]++
		if got[0].Peer == "honest" || got[1].Peer == "honest" {
			withHonest++
		}
	}
	total := 22.0 + 10*2 + 1
	within := func(what string, count int, p float64) {
		t.Helper()
		sd := math.Sqrt(p * (1 - p) / n)
		if got := float64(count) / n; math.Abs(got-p) > 5*sd {
			t.Errorf("%s: %.4f, want %.4f ± %.4f", what, got, p, 5*sd)
		} else {
			t.Logf("%s: %.4f (expected %.4f)", what, got, p)
		}
	}
	within("honest first", first["honest"], 22/total)
	within("cheater first", first["cheater"], 1/total)
	within("sybil0 first", first["sybil0"], 2/total)
	// Second draw: the rest, without the first's weight.
	pHonest := 22 / total
	for _, w := range []float64{1, 2} {
		cnt := 1.0
		if w == 2 {
			cnt = 10
		}
		pHonest += cnt * w / total * 22 / (total - w)
	}
	within("honest in a two-replica draw", withHonest, pHonest)
}
