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
		name       string
		results    []ReplicaResult
		agreed     bool
		majority   []string
		dissenters []string
		diffPaths  []string
		mention    string
	}{
		{"two agree in any order", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: reordered}},
			true, []string{"p1", "p2"}, nil, nil, "2 replicas agree"},
		{"two disagree, no majority", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: wrong}},
			false, nil, nil, []string{"/output/a"}, "no majority"},
		{"two of three outvote", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: wrong}, {Peer: "p3", Outputs: good}},
			false, []string{"p1", "p3"}, []string{"p2"}, []string{"/output/a"}, "p2=" + digestB},
		{"missing output", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", Outputs: good[:1]}, {Peer: "p3", Outputs: good}},
			false, []string{"p1", "p3"}, []string{"p2"}, []string{"/output/b"}, "p2=(missing)"},
		{"exit codes differ", []ReplicaResult{{Peer: "p1", Outputs: good}, {Peer: "p2", ExitCode: 1, Outputs: good}, {Peer: "p3", Outputs: good}},
			false, []string{"p1", "p3"}, []string{"p2"}, []string{"exit code"}, "p2=1"},
		{"single replica", []ReplicaResult{{Peer: "p1", Outputs: good}}, true, []string{"p1"}, nil, nil, "1 replicas agree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := CompareReplicas(tc.results)
			var paths []string
			for _, d := range v.Differences {
				paths = append(paths, d.Path)
			}
			if v.Agreed != tc.agreed || !slices.Equal(v.Majority, tc.majority) ||
				!slices.Equal(v.Dissenters, tc.dissenters) || !slices.Equal(paths, tc.diffPaths) {
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
	v := Verdict{Majority: []string{"p1", "p3"}, Dissenters: []string{"p2"}}
	if err := RecordVerdict(s, v, now); err != nil {
		t.Fatal(err)
	}
	if s.Trust("p1").Valid != 1 || s.Trust("p3").Valid != 1 || s.Trust("p2").Invalid != 1 {
		t.Errorf("trust after verdict: p1 %+v p2 %+v p3 %+v", s.Trust("p1"), s.Trust("p2"), s.Trust("p3"))
	}
	if err := RecordVerdict(s, Verdict{}, now); err != nil || s.Trust("p1").Valid != 1 {
		t.Errorf("a verdict without majority changed trust: %v", err)
	}
}
