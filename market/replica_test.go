package market

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCompareReplicas(t *testing.T) {
	out := func(path string, d Digest) Output { return Output{Path: path, Digest: d, Size: 1} }
	good := []Output{out("/output/a", digestA), out("/output/b", digestB)}
	reordered := []Output{out("/output/b", digestB), out("/output/a", digestA)}
	wrong := []Output{out("/output/a", digestB), out("/output/b", digestB)}
	tests := []struct {
		name         string
		results      []ReplicaResult
		established  []string
		agreed       bool
		majority     []string
		dissenters   []string
		inconclusive bool
		diffPaths    []string
		mention      string
	}{
		{"two agree in any order", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: reordered}}, nil,
			true, []string{"p1", "p2"}, nil, false, nil, "2 replicas agree"},
		{"two disagree, no majority", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: wrong}}, []string{"p1", "p2"},
			false, nil, nil, true, []string{"/output/a"}, "inconclusive: replicas disagree with no majority"},
		{"two of three outvote, one established", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: wrong}, {Peer: "p3", Outputs: good}}, []string{"p3"},
			false, []string{"p1", "p3"}, []string{"p2"}, false, []string{"/output/a"}, "p2=" + digestB},
		{"two newcomers cannot outvote", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: wrong}, {Peer: "p3", Outputs: good}}, nil,
			false, []string{"p1", "p3"}, []string{"p2"}, true, []string{"/output/a"}, "inconclusive: majority [p1 p3] has no provider of established trust"},
		{"an established dissenter is not outvoted by newcomers", []ReplicaResult{{Peer: "s1", Outputs: wrong}, {Peer: "honest", Outputs: good}, {Peer: "s2", Outputs: wrong}}, []string{"honest"},
			false, []string{"s1", "s2"}, []string{"honest"}, true, []string{"/output/a"}, "inconclusive"},
		{"missing output", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: good[:1]}, {Peer: "p3", Outputs: good}}, []string{"p1"},
			false, []string{"p1", "p3"}, []string{"p2"}, false, []string{"/output/b"}, "p2=(missing)"},
		{"exit codes differ", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", ExitCode: 1, Outputs: good}, {Peer: "p3", Outputs: good}}, []string{"p1", "p3"},
			false, []string{"p1", "p3"}, []string{"p2"}, false, []string{"exit code"}, "p2=1"},
		{"single replica", []ReplicaResult{{Peer: "p1", Outputs: good}}, nil, true, []string{"p1"}, nil, false, nil, "1 replicas agree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := CompareReplicas(tc.results, func(p string) bool { return slices.Contains(tc.established, p) })
			var paths []string
			for _, d := range v.Differences {
				paths = append(paths, d.Path)
			}
			if v.Agreed != tc.agreed || !slices.Equal(v.Majority, tc.majority) ||
				!slices.Equal(v.Dissenters, tc.dissenters) || !slices.Equal(paths, tc.diffPaths) ||
				v.Inconclusive != tc.inconclusive || len(v.Peers) != len(tc.results) {
				t.Errorf("verdict %+v", v)
			}
			if !strings.Contains(v.String(), tc.mention) {
				t.Errorf("String() = %q, want %q in it", v, tc.mention)
			}
		})
	}
}

func TestRecordVerdict(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := NewMemTrust()
	v := Verdict{Majority: []string{"p1", "p3"}, Dissenters: []string{"p2"}, Peers: []string{"p1", "p2", "p3"}}
	if err := RecordVerdict(s, v, now); err != nil {
		t.Fatal(err)
	}
	if s.Trust("p1").Valid != 1 || s.Trust("p3").Valid != 1 || s.Trust("p2").Invalid != 1 {
		t.Errorf("trust after verdict: p1 %+v p2 %+v p3 %+v", s.Trust("p1"), s.Trust("p2"), s.Trust("p3"))
	}
	// An inconclusive verdict, with or without a majority, moves nobody's
	// trust up or down; each peer's record counts it.
	for _, v := range []Verdict{
		{Inconclusive: true, Peers: []string{"p1", "p2"}},
		{Inconclusive: true, Majority: []string{"p2", "p3"}, Dissenters: []string{"p1"}, Peers: []string{"p1", "p2", "p3"}},
	} {
		if err := RecordVerdict(s, v, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	p1, p2, p3 := s.Trust("p1"), s.Trust("p2"), s.Trust("p3")
	if p1.Valid != 1 || p1.ConsecutiveValid != 1 || p1.Invalid != 0 || p1.Inconclusive != 2 ||
		p2.Valid != 0 || p2.Invalid != 1 || p2.Inconclusive != 2 ||
		p3.Valid != 1 || p3.ConsecutiveValid != 1 || p3.Inconclusive != 1 || !p3.Updated.Equal(now.Add(time.Hour)) {
		t.Errorf("trust after inconclusive verdicts: p1 %+v p2 %+v p3 %+v", p1, p2, p3)
	}
}
