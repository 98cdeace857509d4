package p2p

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sparegpu/spare/internal/testenv"
)

// testAd is a valid ad of p issued at now (zero now: times left for
// PublishAd to fill).
func testAd(p peer.ID, now time.Time, seq uint64) Ad {
	a := Ad{
		Peer: p, GPUModel: "NVIDIA GeForce RTX 4070", VRAMMiB: 12282, CUDA: "12.4",
		CPUs: 16, RAMMiB: 32768, PricePerSecond: 42, Benchmark: 1000,
		Payee: "0x52908400098527886E0F7030069857D2E4169EE7", Capabilities: []string{"gpu:nvidia"},
		Seq: seq,
	}
	if !now.IsZero() {
		a.IssuedAt, a.ExpiresAt = now, now.Add(DefaultAdLifetime)
	}
	return a
}

func newPeerID(t testing.TB) peer.ID {
	_, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAdValidator feeds the topic validator one message at a time on a
// controlled clock.
func TestAdValidator(t *testing.T) {
	h := newTestHost(t, Config{})
	now := time.Now()
	h.ads.now = func() time.Time { return now }
	alice, mallory := newPeerID(t), newPeerID(t)
	msg := func(from peer.ID, a Ad) *pubsub.Message {
		data, err := EncodeAd(a)
		if err != nil {
			data = []byte(`{"peer":"` + a.Peer.String() + `","payee":"` + a.Payee + `"}`)
		}
		return &pubsub.Message{Message: &pb.Message{From: []byte(from), Data: data}}
	}
	seq := uint64(0)
	next := func() uint64 { seq++; return seq }
	huge := testAd(alice, now, 0)
	huge.Payee = strings.Repeat("x", MaxAdSize)
	cases := []struct {
		name string
		from peer.ID
		ad   func() Ad
		want pubsub.ValidationResult
	}{
		{"valid", alice, func() Ad { return testAd(alice, now, next()) }, pubsub.ValidationAccept},
		{"forged: signer is not the ad's peer", mallory, func() Ad { return testAd(alice, now, next()) }, pubsub.ValidationReject},
		{"expired", alice, func() Ad {
			a := testAd(alice, now.Add(-time.Hour), next())
			return a
		}, pubsub.ValidationReject},
		{"absurdly long-lived", alice, func() Ad {
			a := testAd(alice, now, next())
			a.ExpiresAt = now.Add(24 * time.Hour)
			return a
		}, pubsub.ValidationReject},
		{"unknown reach", alice, func() Ad {
			a := testAd(alice, now, next())
			a.Reach = "teleport"
			return a
		}, pubsub.ValidationReject},
		{"issued in the future", alice, func() Ad { return testAd(alice, now.Add(time.Hour), next()) }, pubsub.ValidationReject},
		{"oversized", alice, func() Ad { return huge }, pubsub.ValidationReject},
		{"replayed seq", alice, func() Ad { return testAd(alice, now, 1) }, pubsub.ValidationIgnore},
		{"second within burst", alice, func() Ad { return testAd(alice, now, next()) }, pubsub.ValidationAccept},
		{"third within burst", alice, func() Ad { return testAd(alice, now, next()) }, pubsub.ValidationAccept},
		{"flood beyond burst", alice, func() Ad { return testAd(alice, now, next()) }, pubsub.ValidationReject},
		{"another peer is not limited", mallory, func() Ad { return testAd(mallory, now, 1) }, pubsub.ValidationAccept},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := h.ads.validate(context.Background(), c.from, msg(c.from, c.ad())); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	now = now.Add(AdInterval)
	if got := h.ads.validate(context.Background(), alice, msg(alice, testAd(alice, now, next()))); got != pubsub.ValidationAccept {
		t.Fatalf("after one AdInterval: got %v, want accept", got)
	}
}

// TestAdsPropagate: a valid ad crosses a three-host line A–B–C; ads a
// rogue GossipSub peer sends without Spare's validator (forged, expired,
// flooding) are dropped by its first Spare neighbour.
func TestAdsPropagate(t *testing.T) {
	a := newTestHost(t, Config{})
	b := newTestHost(t, Config{})
	c := newTestHost(t, Config{})
	offset := atomic.Int64{}
	c.ads.now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	ctx := testCtx(t)
	connect(t, b, a)
	connect(t, c, b)
	adsAtC := c.Ads(ctx)
	// Every link of the line in both directions: an ad travels over the
	// mesh only, so one A publishes before A has grafted B reaches nobody
	// (PublishAd waits only AdMeshWait for that; under load the graft
	// came later and the ad never arrived).
	waitMesh(t, a, b.ID())
	waitMesh(t, b, a.ID(), c.ID())
	waitMesh(t, c, b.ID())

	_, judged, _ := c.trace.state()
	if err := a.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
		t.Fatal(err)
	}
	got := recvAd(t, adsAtC)
	if got.Peer != a.ID() || got.PricePerSecond != 42 {
		t.Fatalf("got %+v", got)
	}
	if cur := c.CurrentAds(); len(cur) != 1 || cur[0].Peer != a.ID() {
		t.Fatalf("CurrentAds = %v", cur)
	}

	// The rogue speaks GossipSub directly to C.
	rogueKey, _, _ := crypto.GenerateEd25519Key(nil)
	rh, err := libp2p.New(libp2p.Identity(rogueKey), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	defer rh.Close()
	rps, err := pubsub.NewGossipSub(ctx, rh, pubsub.WithMessageSignaturePolicy(pubsub.StrictSign), pubsub.WithFloodPublish(true))
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
	if err := rh.Connect(ctx, c.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	waitMesh(t, c, rh.ID())
	testenv.WaitFor(t, "rogue sees C in the topic", testTimeout, func() bool { return len(rt.ListPeers()) > 0 })
	publish := func(ad Ad) {
		t.Helper()
		data, _ := EncodeAd(ad)
		if err := rt.Publish(ctx, data); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	publish(testAd(a.ID(), now, uint64(now.UnixNano()))) // forged: claims to be A
	publish(testAd(rh.ID(), now.Add(-time.Hour), 1))     // expired
	const flood = 10
	for i := range flood {
		publish(testAd(rh.ID(), now, uint64(10+i)))
	}
	// Validation runs on several workers, so wait for all to be judged.
	waitJudged(t, c, judged+1+2+flood)
	// One AdInterval later (on C's clock) the peer may speak again. Its ad
	// is delivered after every ad judged before it.
	offset.Store(int64(AdInterval))
	publish(testAd(rh.ID(), time.Now().Add(AdInterval), 100))
	var delivered []uint64
	for {
		ad := recvAd(t, adsAtC)
		if ad.Peer != rh.ID() {
			t.Fatalf("forged ad delivered: %+v", ad)
		}
		if ad.Seq == 100 {
			break
		}
		delivered = append(delivered, ad.Seq)
	}
	if len(delivered) != AdBurst {
		t.Fatalf("of a flood of %d ads C delivered %v, want %d", flood, delivered, AdBurst)
	}
}

func TestPublishAdRateLimited(t *testing.T) {
	h := newTestHost(t, Config{})
	ctx := testCtx(t)
	var err error
	for range AdBurst + 1 {
		if err = h.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("publishing %d ads at once: got %v, want ErrRateLimited", AdBurst+1, err)
	}
	if err := h.PublishAd(ctx, testAd(newPeerID(t), time.Time{}, 0)); !errors.Is(err, ErrBadAd) {
		t.Fatalf("publishing another peer's ad: got %v", err)
	}
}

func connect(t testing.TB, from, to *Host) {
	t.Helper()
	if err := from.Connect(testCtx(t), to.AddrInfo()); err != nil {
		t.Fatal(err)
	}
}

// waitMesh waits until h has each peer in its ads mesh.
func waitMesh(t testing.TB, h *Host, peers ...peer.ID) {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		mesh, _, changed := h.trace.state()
		all := true
		for _, p := range peers {
			all = all && mesh[p]
		}
		if all {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("peers %v not in the ads mesh of %s", peers, h.ID())
		}
	}
}

// waitJudged waits until h's validator has judged n received ads.
func waitJudged(t testing.TB, h *Host, n int) {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		_, judged, changed := h.trace.state()
		if judged >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s judged %d ads, want %d", h.ID(), judged, n)
		}
	}
}

func recvAd(t testing.TB, ch <-chan Ad) Ad {
	t.Helper()
	select {
	case ad, ok := <-ch:
		if !ok {
			t.Fatal("the ads channel closed (its context ended) before an ad arrived")
		}
		return ad
	case <-time.After(testTimeout):
		t.Fatal("no ad arrived")
	}
	return Ad{}
}

func FuzzDecodeAd(f *testing.F) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	id, _ := peer.Decode("12D3KooWDSpTbTqAVNB37EaFXpmGiUvHzCQgprSrqK7NvUQfnNbZ")
	good, _ := EncodeAd(testAd(id, now, 1))
	f.Add(good)
	f.Add([]byte(`{"peer":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAd(b, now)
		if err != nil {
			if !errors.Is(err, ErrBadAd) {
				t.Fatalf("error %v does not wrap ErrBadAd", err)
			}
			return
		}
		out, err := EncodeAd(a)
		if err != nil {
			t.Fatalf("re-encoding a valid ad: %v", err)
		}
		if _, err := DecodeAd(out, now); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
	})
}
