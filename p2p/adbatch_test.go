package p2p

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/p2p/wire"
)

// volunteerWith starts a volunteer on the ads topic that has heard the
// ads of the given providers (gossip-mode hosts that publish one ad
// each, with the capabilities given), serving AdBatchProtocol.
func volunteerWith(t *testing.T, ctx context.Context, caps ...[]string) (*Host, []*Host) {
	t.Helper()
	v := newTestHost(t, Config{})
	heard := v.Ads(ctx)
	var provs []*Host
	for _, c := range caps {
		p := newTestHost(t, Config{})
		connect(t, p, v)
		waitMesh(t, p, v.ID())
		ad := testAd("", time.Time{}, 0)
		ad.Capabilities = c
		if err := p.PublishAd(ctx, ad); err != nil {
			t.Fatal(err)
		}
		provs = append(provs, p)
	}
	for range provs {
		recvAd(t, heard)
	}
	// An ad pushed to v (AdPushProtocol) may come before its gossiped,
	// signed copy, which v then keeps beside it.
	testenv.WaitFor(t, "the volunteer to hold every ad signed", testTimeout, func() error {
		v.ads.mu.Lock()
		defer v.ads.mu.Unlock()
		for _, p := range provs {
			if v.ads.peers[p.ID()].signed == nil {
				return fmt.Errorf("%s's ad has no signed form", p.ID())
			}
		}
		return nil
	})
	if err := v.ServeAdBatches(ctx); err != nil {
		t.Fatal(err)
	}
	return v, provs
}

// TestAdBatch: a pull-only requester asks a volunteer for the ads of one
// class and gets, in one answer, every current ad of that class the
// volunteer heard on the ads topic, each taken after its provider's
// signature; a question for every class gets them all. A node off the
// ads topic cannot volunteer.
func TestAdBatch(t *testing.T) {
	ctx := testCtx(t)
	v, provs := volunteerWith(t, ctx, []string{"gpu:nvidia"}, []string{"cpu"}, []string{"gpu:nvidia", "cpu"})
	r := newTestHost(t, Config{PullAds: true})
	connect(t, r, v)

	got, err := r.QueryAdBatch(ctx, v.ID(), "gpu:nvidia", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[peer.ID]bool{provs[0].ID(): true, provs[2].ID(): true}
	if len(got.Ads) != 2 || !want[got.Ads[0].Peer] || !want[got.Ads[1].Peer] || got.Rejected != 0 || got.Bytes == 0 {
		t.Fatalf("the gpu:nvidia batch: %+v, want the ads of %v", got, want)
	}
	t.Logf("2 ads in one answer of %d bytes", got.Bytes)
	if held := r.CurrentAds(); len(held) != 2 {
		t.Errorf("the requester holds %d ads after the batch, want 2", len(held))
	}
	// Asked again, it holds them already: nothing new is taken.
	again, err := r.QueryAdBatch(ctx, v.ID(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Ads) != 1 || again.Ads[0].Peer != provs[1].ID() || again.Held != 2 {
		t.Fatalf("every class, asked second: %+v, want the cpu provider's ad new and 2 held", again)
	}
	// At most max.
	one, err := newTestHostConnected(t, v).QueryAdBatch(ctx, v.ID(), "", 1)
	if err != nil || len(one.Ads) != 1 {
		t.Fatalf("max 1: %+v, %v", one, err)
	}
}

func newTestHostConnected(t *testing.T, to *Host) *Host {
	h := newTestHost(t, Config{PullAds: true})
	connect(t, h, to)
	return h
}

// signedMsg is ad signed by key as GossipSub signs a message of topic.
func signedMsg(t *testing.T, key crypto.PrivKey, topic string, ad Ad) []byte {
	t.Helper()
	from, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(ad)
	if err != nil {
		t.Fatal(err)
	}
	seq := make([]byte, 8)
	binary.BigEndian.PutUint64(seq, ad.Seq)
	m := &pb.Message{From: []byte(from), Data: data, Seqno: seq, Topic: &topic}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if m.Signature, err = key.Sign(append([]byte(pubsub.SignPrefix), b...)); err != nil {
		t.Fatal(err)
	}
	out, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rogueVolunteer is a plain libp2p host answering AdBatchProtocol with
// answer, connected to r.
func rogueVolunteer(t *testing.T, r *Host, answer func(s network.Stream)) host.Host {
	t.Helper()
	h := rogueHost(t)
	h.SetStreamHandler(AdBatchProtocol, func(s network.Stream) {
		if _, err := wire.ReadFrame(s, maxAskFrame); err != nil {
			_ = s.Reset()
			return
		}
		answer(s)
	})
	if err := h.Connect(testCtx(t), r.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	return h
}

func answerWith(entries [][]byte) func(network.Stream) {
	return func(s network.Stream) {
		b, _ := json.Marshal(batchAnswer{Ads: entries})
		_ = wire.WriteFrame(s, 4*MaxBatchBytes, wire.Envelope{Type: TypeAdBatch, Version: 1, Payload: b})
		_ = s.Close()
	}
}

// TestAdBatchHostile plays a hostile volunteer. Of its entries only the
// ads still signed by their providers, of this network, valid and new
// are taken: a forged (altered) ad, an ad signed by another than its
// peer, another network's ad, an expired one, garbage and a replay are
// not. An answer over MaxBatchAds or MaxBatchBytes is refused whole, a
// slow one ends at AdBatchTimeout, and a flood after the answer is never
// read. A volunteer refuses a question over its limits.
func TestAdBatchHostile(t *testing.T) {
	ctx := testCtx(t)
	v, provs := volunteerWith(t, ctx, []string{"gpu:nvidia"})
	r := newTestHost(t, Config{PullAds: true})

	// A genuine entry, as the provider signed it on the topic.
	v.ads.mu.Lock()
	genuine := v.ads.peers[provs[0].ID()].signed
	v.ads.mu.Unlock()
	var m pb.Message
	if err := proto.Unmarshal(genuine, &m); err != nil {
		t.Fatal(err)
	}
	forged := proto.CloneOf(&m)
	var ad Ad
	if err := json.Unmarshal(m.Data, &ad); err != nil {
		t.Fatal(err)
	}
	ad.PricePerSecond = 1 // cheaper than the provider asks
	forged.Data, _ = json.Marshal(ad)
	forgedB, _ := proto.Marshal(forged)

	key, _, _ := crypto.GenerateEd25519Key(nil)
	self, _ := peer.IDFromPrivateKey(key)
	now := time.Now()
	expired := testAd(self, now.Add(-MaxAdLifetime), 7)
	expired.ExpiresAt = now.Add(-time.Second)
	entries := [][]byte{
		forgedB, // altered: the signature fails
		signedMsg(t, key, AdsTopic, testAd(newPeerID(t), now, 3)),   // signed by another than its peer
		signedMsg(t, key, AdsTopic+"/pool/x", testAd(self, now, 4)), // another network's
		signedMsg(t, key, AdsTopic, expired),                        // expired
		[]byte("garbage"),                                           // not a message
		genuine,                                                     // taken
		signedMsg(t, key, AdsTopic, testAd(self, now, 5)),           // taken
		genuine, // the same again: held
	}
	rogue := rogueVolunteer(t, r, answerWith(entries))
	got, err := r.QueryAdBatch(ctx, rogue.ID(), "gpu:nvidia", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Ads) != 2 || got.Ads[0].Peer != provs[0].ID() || got.Ads[0].PricePerSecond != 42 || got.Ads[1].Peer != self || got.Rejected != 5 || got.Held != 1 {
		t.Fatalf("from the hostile batch: %+v, want the genuine ad at its price and the rogue's own, 5 rejected, 1 held", got)
	}
	for _, a := range r.CurrentAds() {
		if a.Peer != provs[0].ID() && a.Peer != self {
			t.Errorf("the requester holds an ad of %s from a forged entry", a.Peer)
		}
	}

	refused := func(name string, answer func(network.Stream), max int) {
		t.Helper()
		rv := rogueVolunteer(t, r, answer)
		start := time.Now()
		got, err := r.QueryAdBatch(ctx, rv.ID(), "", max)
		if !errors.Is(err, ErrBadBatch) || len(got.Ads) != 0 {
			t.Errorf("%s: %+v, %v; want the answer refused whole (ErrBadBatch)", name, got, err)
		}
		if d := time.Since(start); d > AdBatchTimeout+2*time.Second {
			t.Errorf("%s: refused after %s, past AdBatchTimeout %s", name, d, AdBatchTimeout)
		}
	}
	many := make([][]byte, 11)
	for i := range many {
		many[i] = genuine
	}
	refused("more ads than asked", answerWith(many), 10)
	big := make([][]byte, MaxBatchBytes/maxSignedAd+1)
	for i := range big {
		big[i] = make([]byte, maxSignedAd)
	}
	refused("an answer over MaxBatchBytes", answerWith(big), 0)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	refused("an answer that never comes", func(s network.Stream) { <-hold; _ = s.Reset() }, 0)

	// A flood: the answer, then frames without end. The requester takes
	// the answer and reads no further; the flood's writes end in a reset.
	flooded := make(chan error, 1)
	fv := rogueVolunteer(t, r, func(s network.Stream) {
		answerWith([][]byte{genuine})(nopCloser{s})
		junk := make([]byte, 64<<10)
		for {
			if _, err := s.Write(junk); err != nil {
				flooded <- err
				return
			}
		}
	})
	start := time.Now()
	if got, err := r.QueryAdBatch(ctx, fv.ID(), "", 0); err != nil || got.Held != 1 {
		t.Errorf("the flood's answer: %+v, %v; want its one (held) ad", got, err)
	}
	select {
	case err := <-flooded:
		t.Logf("the flood ended after %s: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(testTimeout):
		t.Error("the flood's writes never ended: the requester still reads them")
	}

	// The volunteer's side: a question over its limits is refused.
	connect(t, r, v)
	s, err := r.LibP2P().NewStream(ctx, v.ID(), AdBatchProtocol)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := json.Marshal(batchAsk{Max: MaxBatchAds + 1})
	_ = wire.WriteFrame(s, maxAskFrame, wire.Envelope{Type: TypeAdBatchAsk, Version: 1, Payload: q})
	var re *wire.RemoteError
	if _, err := wire.ReadFrame(s, MaxBatchBytes); !errors.As(err, &re) {
		t.Errorf("a question for %d ads: %v, want a refusal", MaxBatchAds+1, err)
	}
	_, _ = io.Copy(io.Discard, s)
}

// nopCloser keeps answerWith from closing the flood's stream.
type nopCloser struct{ network.Stream }

func (nopCloser) Close() error { return nil }

// TestAdVolunteerWithRelay: the owner's relay setting (SetRelay) makes a
// node on the ads topic a volunteer of ads too, which answers only while
// its relay serves (AutoNAT found it public: never on loopback, so here
// it refuses, saying why); turned off, it stops answering at all.
func TestAdVolunteerWithRelay(t *testing.T) {
	ctx := testCtx(t)
	v := newTestHost(t, Config{})
	r := newTestHost(t, Config{PullAds: true})
	connect(t, r, v)
	v.SetRelay(true)
	var re *wire.RemoteError
	testenv.WaitFor(t, "the volunteer's answer", testTimeout, func() error {
		_, err := r.QueryAdBatch(ctx, v.ID(), "", 0)
		if !errors.As(err, &re) {
			return fmt.Errorf("%v, want a refusal", err)
		}
		return nil
	})
	if re.Code != "not-public" || v.RelayServing() {
		t.Fatalf("a volunteer not reached directly answered %v (relay serving %v)", re, v.RelayServing())
	}
	v.SetRelay(false)
	testenv.WaitFor(t, "the volunteer to stop answering", testTimeout, func() error {
		_, err := r.QueryAdBatch(ctx, v.ID(), "", 0)
		if err == nil || errors.As(err, &re) {
			return fmt.Errorf("%v, want the protocol gone", err)
		}
		return nil
	})
	if err := r.ServeAdBatches(ctx); err == nil {
		t.Error("a pull-only node volunteered")
	}
}
