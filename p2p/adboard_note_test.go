package p2p

import (
	"testing"
	"time"
)

// TestNoteAd: an ad a peer gave by query joins the host's ads, and what
// it says of the peer's reachability is known (NewDirectStream's early
// refusal); an older one does not replace it, and an invalid, expired or
// own ad is not kept.
func TestNoteAd(t *testing.T) {
	h := newTestHost(t, Config{PullAds: true})
	now := time.Now()
	p := newPeerID(t)
	a := testAd(p, now, 10)
	a.Reach = ReachRelayOnly
	h.NoteAd(a)
	if got := h.adReachOf(p); got != ReachRelayOnly {
		t.Fatalf("reach of the queried ad: %q, want %q", got, ReachRelayOnly)
	}
	older := testAd(p, now, 9)
	older.Reach = ReachDirect
	h.NoteAd(older)
	if got := h.adReachOf(p); got != ReachRelayOnly {
		t.Fatalf("an older ad replaced the newer: reach %q", got)
	}
	bad := testAd(newPeerID(t), now, 0) // seq zero
	expired := testAd(newPeerID(t), now.Add(-2*MaxAdLifetime), 1)
	own := testAd(h.ID(), now, 1)
	for _, x := range []Ad{bad, expired, own} {
		h.NoteAd(x)
	}
	if ads := h.CurrentAds(); len(ads) != 1 || ads[0].Peer != p {
		t.Fatalf("the host keeps %d ads, want only the valid queried one", len(ads))
	}
}
