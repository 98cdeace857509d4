package p2p

import (
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/p2p/wire"
)

// TestAdPushToLateMeshPeer: an ad published before a peer joined reaches
// it when it joins the publisher's ads mesh (AdPushProtocol), not at the
// next round minutes later: GossipSub pushes an ad only to the mesh of
// the moment and gossips it only outside the mesh, which a newcomer
// enters at once. Red before: the newcomer heard nothing until
// AdRepublish.
func TestAdPushToLateMeshPeer(t *testing.T) {
	ctx := testCtx(t)
	a := newTestHost(t, Config{})
	if err := a.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
		t.Fatal(err)
	}
	c := newTestHost(t, Config{})
	adsAtC := c.Ads(ctx)
	connect(t, c, a)
	if got := recvAd(t, adsAtC); got.Peer != a.ID() {
		t.Fatalf("the newcomer got %+v, want the ad of %s", got, a.ID())
	}
	if cur := c.CurrentAds(); len(cur) != 1 || cur[0].Peer != a.ID() {
		t.Fatalf("CurrentAds = %v", cur)
	}
}

// TestAdPushHostile plays peers that push ads: a peer outside this
// network's ads topic is refused before it is read; a topic peer's push
// of another peer's ad, of a malformed frame, or of its own ad replayed
// is rejected; only its own fresh ad is taken.
func TestAdPushHostile(t *testing.T) {
	ctx := testCtx(t)
	h := newTestHost(t, Config{})
	adsAtH := h.Ads(ctx)
	push := func(from host.Host, e wire.Envelope) {
		t.Helper()
		s, err := from.NewStream(ctx, h.ID(), AdPushProtocol)
		if err != nil {
			t.Fatal(err)
		}
		_ = wire.WriteFrame(s, 1<<20, e)
		_ = s.CloseWrite()
		// h closes or resets the stream once it has judged the push.
		_, _ = io.Copy(io.Discard, s)
	}
	encode := func(ad Ad) []byte {
		t.Helper()
		b, err := EncodeAd(ad)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// A stranger to the ads topic: a plain libp2p host.
	stranger := rogueHost(t)
	if err := stranger.Connect(ctx, h.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	push(stranger, wire.Envelope{Type: TypeAdPush, Version: 1, Payload: encode(testAd(stranger.ID(), now, 1))})

	// A topic peer speaking GossipSub on the ads topic.
	rogue := rogueHost(t)
	rps, err := pubsub.NewGossipSub(ctx, rogue, pubsub.WithMessageSignaturePolicy(pubsub.StrictSign))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rps.Join(AdsTopic)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Subscribe(); err != nil {
		t.Fatal(err)
	}
	if err := rogue.Connect(ctx, h.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the rogue in the ads topic of h", testTimeout, func() bool {
		for _, p := range h.ads.topic.ListPeers() {
			if p == rogue.ID() {
				return true
			}
		}
		return false
	})
	other := newPeerID(t)
	push(rogue, wire.Envelope{Type: TypeAdPush, Version: 1, Payload: encode(testAd(other, now, 2))})          // another's ad
	push(rogue, wire.Envelope{Type: TypeAdPush, Version: 1, Payload: []byte("{not an ad")})                   // malformed
	push(rogue, wire.Envelope{Type: TypeAdPush + 1, Version: 1, Payload: encode(testAd(rogue.ID(), now, 3))}) // wrong type
	push(rogue, wire.Envelope{Type: TypeAdPush, Version: 1, Payload: encode(testAd(rogue.ID(), now, 5))})     // taken
	push(rogue, wire.Envelope{Type: TypeAdPush, Version: 1, Payload: encode(testAd(rogue.ID(), now, 5))})     // replayed
	push(rogue, wire.Envelope{Type: TypeAdPush, Version: 1, Payload: encode(testAd(rogue.ID(), now, 6))})     // the next, taken

	// The two taken ads arrive in order; nothing else does.
	for _, want := range []uint64{5, 6} {
		got := recvAd(t, adsAtH)
		if got.Peer != rogue.ID() || got.Seq != want {
			t.Fatalf("h took %s's ad seq %d, want the rogue's own seq %d (stranger %s, forged for %s)", got.Peer, got.Seq, want, stranger.ID(), other)
		}
	}
	for _, a := range h.CurrentAds() {
		if a.Peer != rogue.ID() {
			t.Errorf("h holds a pushed ad of %s", a.Peer)
		}
	}
}

// rogueHost is a plain libp2p host on loopback, closed at the test's end.
func rogueHost(t *testing.T) host.Host {
	t.Helper()
	key, _, _ := crypto.GenerateEd25519Key(nil)
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
