package provider

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestAdmissions: per-peer and total limits; when the total is full the
// oldest stream still pending for at least evictAfter makes room, a
// settled one never does, and a newcomer is refused when nobody qualifies.
func TestAdmissions(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	a := newAdmissions(streamLimits{perPeer: 2, total: 3, evictAfter: 2 * time.Second})
	resets := map[string]int{}
	reset := func(name string) func() { return func() { resets[name]++ } }
	p1, p2, p3, p4 := peer.ID("p1"), peer.ID("p2"), peer.ID("p3"), peer.ID("p4")

	x1, ev := a.admit(p1, t0, reset("x1"))
	if x1 == nil || ev != nil {
		t.Fatal("first stream refused")
	}
	x2, _ := a.admit(p1, t0.Add(time.Second), reset("x2"))
	if x2 == nil {
		t.Fatal("second stream of a peer refused")
	}
	if x, _ := a.admit(p1, t0.Add(time.Second), reset("x")); x != nil {
		t.Fatal("third stream of a peer admitted past the per-peer limit")
	}
	x3, _ := a.admit(p2, t0.Add(1200*time.Millisecond), reset("x3"))
	if x3 == nil || a.stats.Open != 3 {
		t.Fatalf("stream of another peer: %v, open %d", x3, a.stats.Open)
	}
	// Full, and nobody has waited 2 s yet: refused.
	if x, ev := a.admit(p3, t0.Add(1500*time.Millisecond), reset("x")); x != nil || ev != nil {
		t.Fatal("admitted past the total with no stream old enough to evict")
	}
	// x1 is settled (agreed): never evicted. x2 is the oldest pending one.
	a.settle(x1)
	x4, ev := a.admit(p3, t0.Add(5*time.Second), reset("x4"))
	if x4 == nil || ev == nil {
		t.Fatal("a newcomer did not take the place of a stale pending stream")
	}
	ev()
	if resets["x2"] != 1 || resets["x1"] != 0 || a.stats.Open != 3 || a.stats.Evicted != 1 {
		t.Fatalf("resets %v, stats %+v: want x2 evicted", resets, a.stats)
	}
	// The evicted stream's own end does not count twice; p1 may open again.
	a.release(x2)
	if a.stats.Open != 3 || a.perPeer[p1] != 1 {
		t.Fatalf("after the evicted stream ended: open %d, p1 holds %d", a.stats.Open, a.perPeer[p1])
	}
	x5, ev := a.admit(p4, t0.Add(10*time.Second), reset("x5"))
	if x5 == nil || ev == nil {
		t.Fatal("x3 (pending, 9 s old) should make room")
	}
	ev()
	if resets["x3"] != 1 {
		t.Fatalf("resets %v: want x3 evicted, the oldest pending", resets)
	}
	a.settle(x4)
	a.settle(x5)
	if x, _ := a.admit(p2, t0.Add(time.Minute), reset("x")); x != nil {
		t.Fatal("admitted when every open stream is settled")
	}
	for _, x := range []*admission{x1, x3, x4, x5} {
		a.release(x)
	}
	if a.stats.Open != 0 || len(a.perPeer) != 0 || a.stats.Peak != 3 || a.stats.PeakPerPeer != 2 ||
		a.stats.Admitted != 5 || a.stats.Refused != 3 || a.stats.Evicted != 2 {
		t.Fatalf("final stats %+v, per peer %v", a.stats, a.perPeer)
	}
}
