package p2p

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
)

func TestRelayOnlyWhy(t *testing.T) {
	for _, c := range []struct {
		name          string
		fails         int
		adReach, self Reach
		want          string // a word of the reason; "" to go on waiting
	}{
		{"no punch ended yet", 0, "", ReachHolePunch, ""},
		{"punches still to come", PunchAttempts - 1, ReachHolePunch, ReachUnknown, ""},
		{"every punch failed", PunchAttempts, "", ReachHolePunch, "hole punches"},
		{"every punch failed, whatever the ad says", PunchAttempts + 1, ReachDirect, ReachDirect, "hole punches"},
		{"the ad says relay-only", 0, ReachRelayOnly, ReachHolePunch, "its ad"},
		{"the ad says relay-only, this node's reach unknown", 0, ReachRelayOnly, ReachUnknown, "its ad"},
		// A peer behind a symmetric NAT can still dial a node reached
		// directly: the punch round's direct dial (connection reversal).
		{"the ad says relay-only, this node reached directly", 0, ReachRelayOnly, ReachDirect, ""},
		{"the ad says hole punching", 0, ReachHolePunch, ReachHolePunch, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := relayOnlyWhy(c.fails, c.adReach, c.self)
			if (got == "") != (c.want == "") || !strings.Contains(got, c.want) {
				t.Fatalf("relayOnlyWhy(%d, %q, %q) = %q, want one naming %q", c.fails, c.adReach, c.self, got, c.want)
			}
		})
	}
}

// TestPunchPeersRounds: failed punches count per peer until one
// succeeds or the round starts again; a coordination error ends the
// round; every change wakes the waiters.
func TestPunchPeersRounds(t *testing.T) {
	var w punchPeers
	a, b := newPeerID(t), newPeerID(t)
	fails, wake := w.state(a)
	if fails != 0 {
		t.Fatalf("a fresh peer has %d failed punches", fails)
	}
	for i := 1; i <= PunchAttempts; i++ {
		w.ended(a, false, false)
		select {
		case <-wake:
		default:
			t.Fatalf("punch %d's end woke no waiter", i)
		}
		if fails, wake = w.state(a); fails != i {
			t.Fatalf("after %d failed punches the count is %d", i, fails)
		}
	}
	if fails, _ := w.state(b); fails != 0 {
		t.Fatalf("another peer's punches counted for b: %d", fails)
	}
	w.ended(a, true, false)
	if fails, _ := w.state(a); fails != 0 {
		t.Fatalf("a succeeded punch left %d failures", fails)
	}
	w.ended(b, false, false)
	w.ended(b, false, true)
	if fails, _ := w.state(b); fails != PunchAttempts {
		t.Fatalf("a coordination error left the round at %d failures, want %d (over)", fails, PunchAttempts)
	}
	if _, failed := w.counts(); failed != PunchAttempts+2 {
		t.Fatalf("failed punches counted %d, want %d: a's %d, b's one, and b's failed coordination as one", failed, PunchAttempts+2, PunchAttempts)
	}
	w.relayed(b)
	if w.hasBegun(b) {
		t.Fatal("a new round has begun before any punch")
	}
	w.began(b)
	if !w.hasBegun(b) {
		t.Fatal("a punch began, but the round does not say so")
	}
	_, wake = w.state(b)
	w.reset(b)
	if w.hasBegun(b) {
		t.Fatal("a forgotten round still says a punch began")
	}
	select {
	case <-wake:
	default:
		t.Fatal("a new round woke no waiter")
	}
	if fails, _ := w.state(b); fails != 0 {
		t.Fatalf("a new round starts at %d failures", fails)
	}
}

// TestNewDirectStreamAdRelayOnly: on a line A–B–C, C holds the ads of A
// and B without being connected to either. A's ad says it is reached only
// through a relay: C, not reached directly itself, refuses at once and
// never dials A. B's ad (its reachability stamped by PublishAd) says
// nothing of the kind: C dials it and the stream opens.
func TestNewDirectStreamAdRelayOnly(t *testing.T) {
	a := newTestHost(t, Config{})
	b := newTestHost(t, Config{})
	c := newTestHost(t, Config{})
	ctx := testCtx(t)
	connect(t, b, a)
	connect(t, c, b)
	adsAtC := c.Ads(ctx)
	waitMesh(t, b, a.ID(), c.ID())
	waitMesh(t, c, b.ID())
	const proto = protocol.ID("/spare/test/direct/1")
	for _, h := range []*Host{a, b} {
		h.LibP2P().SetStreamHandler(proto, func(s network.Stream) { _ = s.Close() })
	}

	relayOnly := testAd("", time.Time{}, 0)
	relayOnly.Reach = ReachRelayOnly
	if err := a.PublishAd(ctx, relayOnly); err != nil {
		t.Fatal(err)
	}
	if got := recvAd(t, adsAtC); got.Peer != a.ID() || got.Reach != ReachRelayOnly {
		t.Fatalf("C got %+v, want A's relay-only ad", got)
	}
	if err := b.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
		t.Fatal(err)
	}
	if got := recvAd(t, adsAtC); got.Peer != b.ID() || got.Reach != b.Reachability().Reach {
		t.Fatalf("C got %+v, want B's ad stamped with its reachability %q", got, b.Reachability().Reach)
	}
	if c.Reachability().Reach == ReachDirect {
		t.Fatal("a loopback host reached directly: the refusal below would not apply")
	}

	c.LibP2P().Peerstore().AddAddrs(a.ID(), a.LibP2P().Addrs(), 0)
	if _, err := c.NewDirectStream(ctx, a.ID(), proto); !errors.Is(err, ErrRelayOnly) || !strings.Contains(err.Error(), "its ad") {
		t.Fatalf("a stream to a relay-only peer: got %v, want ErrRelayOnly naming its ad", err)
	}
	if got := c.LibP2P().Network().Connectedness(a.ID()); got != network.NotConnected {
		t.Fatalf("C dialled the relay-only peer A: %v", got)
	}

	c.LibP2P().Network().ClosePeer(b.ID())
	s, err := c.NewDirectStream(ctx, b.ID(), proto)
	if err != nil {
		t.Fatalf("a stream to B, whose ad says %q: %v", b.Reachability().Reach, err)
	}
	defer s.Close()
	if s.Conn().Stat().Limited {
		t.Fatal("the stream to B runs on a limited connection")
	}
}

// TestPunchPeersCounts: a round through a relay that ends in a direct
// connection counts one success, whichever side saw it first (the punch's
// end event or the direct connection's arrival); a direct connection with
// no round open is no hole punch; each failed punch counts.
func TestPunchPeersCounts(t *testing.T) {
	var w punchPeers
	a, b, c := newPeerID(t), newPeerID(t), newPeerID(t)
	w.relayed(a)
	w.direct(a)             // the dialled-back connection arrives first…
	w.ended(a, true, false) // …then DCUtR's event of the same round
	if ok, failed := w.counts(); ok != 1 || failed != 0 {
		t.Fatalf("one upgraded round counted %d/%d, want 1 success", ok, failed)
	}
	w.direct(c) // dialled directly, no relay: no hole punch
	w.relayed(b)
	w.ended(b, false, false)
	w.ended(b, false, false)
	w.ended(b, true, false) // the third punch worked
	w.direct(b)
	if ok, failed := w.counts(); ok != 2 || failed != 2 {
		t.Fatalf("counted %d successes and %d failures, want 2 and 2", ok, failed)
	}
	w.relayed(b) // a new relayed connection while none direct: a new round
	w.reset(b)   // b went away
	w.direct(b)  // and came back directly
	if ok, _ := w.counts(); ok != 2 {
		t.Fatalf("a forgotten round counted a success: %d", ok)
	}
}

// TestRekickDue: a peer reached only through a relay, with which no punch
// began, is connected to again once this host can answer a punch and the
// connection has stood punchGrace; never while a punch is under way,
// before this host is ready, too soon, or beside a direct connection.
func TestRekickDue(t *testing.T) {
	now := time.Now()
	old := connState{relayed: true, opened: now.Add(-punchGrace - time.Second)}
	fresh := connState{relayed: true, opened: now.Add(-time.Second)}
	direct := connState{relayed: false, opened: now.Add(-time.Minute)}
	for _, c := range []struct {
		name         string
		begun, ready bool
		conns        []connState
		want         bool
	}{
		{"no punch began, ready, relayed a while", false, true, []connState{old}, true},
		{"a punch began", true, true, []connState{old}, false},
		{"not ready to answer a punch", false, false, []connState{old}, false},
		{"the relayed connection is fresh", false, true, []connState{old, fresh}, false},
		{"a direct connection is there", false, true, []connState{old, direct}, false},
		{"not connected", false, true, nil, false},
	} {
		if got := rekickDue(c.begun, c.ready, c.conns, now); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
