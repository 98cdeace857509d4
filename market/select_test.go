package market

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func peers(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Peer)
	}
	return out
}

func TestRank(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	spec := validSpec() // 1 GPU, 4 GiB VRAM, 2 cores
	spec.MaxPrice = 1000
	gpu := func(peer string, perGPU uint64, lat time.Duration) Offer {
		return Offer{Peer: peer, GPUs: 1, VRAM: 8 << 30, CPUs: 8000, Price: Price{PerGPUSecond: perGPU}, Latency: lat}
	}
	trusted := Trust{ConsecutiveValid: TrustThreshold}
	trust := map[string]Trust{"trusted": trusted, "cheater": {ConsecutiveValid: 20, LastInvalid: now.Add(-time.Hour)}}
	tests := []struct {
		name   string
		offers []Offer
		want   []string
	}{
		{"cheapest first", []Offer{gpu("b", 500, 10*time.Millisecond), gpu("a", 400, 10*time.Millisecond)}, []string{"a", "b"}},
		{"latency outweighs a small saving", []Offer{gpu("far", 400, 400*time.Millisecond), gpu("near", 450, 5*time.Millisecond)}, []string{"near", "far"}},
		{"trust outweighs a small saving", []Offer{gpu("new", 400, 10*time.Millisecond), gpu("trusted", 450, 10*time.Millisecond)}, []string{"trusted", "new"}},
		{"recent invalid result sinks", []Offer{gpu("cheater", 300, time.Millisecond), gpu("new", 400, 10*time.Millisecond)}, []string{"new", "cheater"}},
		{"too expensive dropped", []Offer{gpu("dear", 1001, 0), gpu("ok", 900, 0)}, []string{"ok"}},
		{"no gpu dropped", []Offer{{Peer: "cpu", CPUs: 8000}, gpu("g", 1, 0)}, []string{"g"}},
		{"small vram dropped", []Offer{{Peer: "small", GPUs: 1, VRAM: 2 << 30}, gpu("g", 1, 0)}, []string{"g"}},
		{"unadvertised vram kept", []Offer{{Peer: "quiet", GPUs: 1}}, []string{"quiet"}},
		{"few cpus dropped", []Offer{{Peer: "weak", GPUs: 1, CPUs: 1000}}, nil},
		{"duplicate peer once", []Offer{gpu("a", 1, 0), gpu("a", 2, 0)}, []string{"a"}},
		{"ties by peer id", []Offer{gpu("y", 5, 0), gpu("x", 5, 0)}, []string{"x", "y"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := peers(Rank(spec, tc.offers, func(p string) Trust { return trust[p] }, now))
			if !slices.Equal(got, tc.want) {
				t.Errorf("ranked %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPick(t *testing.T) {
	ranked := []Candidate{{Offer: Offer{Peer: "a"}}, {Offer: Offer{Peer: "b"}}, {Offer: Offer{Peer: "c"}}}
	got, err := Pick(ranked, 2, map[string]bool{"a": true})
	if err != nil || !slices.Equal(peers(got), []string{"b", "c"}) {
		t.Errorf("Pick = %v, %v", peers(got), err)
	}
	if _, err := Pick(ranked, 3, map[string]bool{"b": true}); !errors.Is(err, ErrNoProvider) {
		t.Errorf("err = %v, want ErrNoProvider", err)
	}
}

func TestReplicas(t *testing.T) {
	tests := []struct {
		name      string
		requested int
		trust     Trust
		draw      uint64
		want      int
	}{
		{"asked for three", 3, Trust{}, 1, 3},
		{"new peer replicated", 1, Trust{}, 1, 2},
		{"almost trusted", 1, Trust{ConsecutiveValid: TrustThreshold - 1}, 1, 2},
		{"trusted runs alone", 1, Trust{ConsecutiveValid: 20}, 7, 1},
		{"trusted spot-checked", 1, Trust{ConsecutiveValid: 20}, 40, 2},
	}
	for _, tc := range tests {
		if got := Replicas(tc.requested, tc.trust, tc.draw); got != tc.want {
			t.Errorf("%s: Replicas = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestTrustRecord(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var tr Trust
	for range TrustThreshold {
		tr = tr.Record(true, now)
	}
	if !tr.Trusted() || tr.Valid != TrustThreshold {
		t.Fatalf("after %d valid results: %+v", TrustThreshold, tr)
	}
	tr = tr.Record(false, now)
	if tr.Trusted() || tr.ConsecutiveValid != 0 || tr.Invalid != 1 || !tr.LastInvalid.Equal(now) {
		t.Errorf("after an invalid result: %+v", tr)
	}
}

func TestFileTrustPersists(t *testing.T) {
	now := time.Unix(1_700_000_000, 0).UTC()
	path := filepath.Join(t.TempDir(), "trust.json")
	s, err := OpenFileTrust(path)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Record("peerA", true, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Record("peerB", false, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordInconclusive("peerA", now); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("trust file: %v, %v", fi, err)
	}
	re, err := OpenFileTrust(path)
	if err != nil {
		t.Fatal(err)
	}
	if a := re.Trust("peerA"); a.ConsecutiveValid != 3 || a.Inconclusive != 1 || !a.Updated.Equal(now) {
		t.Errorf("peerA after reopening: %+v", a)
	}
	if b := re.Trust("peerB"); b.Invalid != 1 {
		t.Errorf("peerB after reopening: %+v", b)
	}
	if err := os.WriteFile(path, []byte(`{"version":9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileTrust(path); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("future version: err = %v", err)
	}
}

func TestFileTrustSaveFailureKeepsOldRecord(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFileTrust(filepath.Join(dir, "missing-dir", "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record("p", true, time.Now()); err == nil {
		t.Fatal("saving into a missing directory succeeded")
	}
	if got := s.Trust("p"); got != (Trust{}) {
		t.Errorf("failed save left %+v in memory", got)
	}
}

func TestMemTrustBounded(t *testing.T) {
	m := NewMemTrust()
	base := time.Unix(0, 0)
	for i := range MaxTrustPeers + 5 {
		m.Record(string(rune(0x10000+i)), true, base.Add(time.Duration(i)*time.Second))
	}
	if len(m.peers) != MaxTrustPeers {
		t.Errorf("%d peers kept, want %d", len(m.peers), MaxTrustPeers)
	}
	if _, ok := m.peers[string(rune(0x10000))]; ok {
		t.Error("the oldest peer was kept")
	}
}
