package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/sparegpu/spare/p2p/wire"
)

// AdBatchProtocol answers "the ads of class X" in one round trip: a
// volunteer (a public node whose owner lets it relay, on the ads topic:
// Host.VolunteerAds) hands a pull-only requester every current ad it
// holds of a capability, so that the requester's first contact is one
// query rather than a DHT lookup and one query per provider.
//
// Wire: the requester opens the stream and writes
// Envelope{Type: TypeAdBatchAsk, Version: 1, Payload: JSON batchAsk};
// the volunteer writes Envelope{Type: TypeAdBatch, Version: 1, Payload:
// JSON batchAnswer} (or an error frame) and closes. Each entry of the
// answer is an ad exactly as its provider signed it on the ads topic (a
// GossipSub message, protobuf): the requester checks the topic (its own
// network's), the provider's signature and then the ad itself through
// the same checks as a gossiped ad (adBoard.judge). A volunteer can
// therefore not forge, alter or move an ad between networks; it can
// omit ads, or hand out an older one of a provider still inside its
// lifetime (at most MaxAdLifetime) that the requester has no newer of.
const AdBatchProtocol = "/spare/ads/batch/1.0.0"

// VolunteerCapability is the DHT key (CapabilityCID) under which
// volunteers serving AdBatchProtocol are recorded.
const VolunteerCapability = "spare/ads-volunteer"

// Limits of the batch protocol.
const (
	TypeAdBatchAsk uint64 = 1
	TypeAdBatch    uint64 = 2
	// MaxBatchAds caps the ads in one answer: more is refused whole.
	MaxBatchAds = 200
	// MaxBatchBytes caps one answer's frame; a volunteer fills at most
	// batchFill of it, leaving room for the JSON around the entries.
	MaxBatchBytes = 640 << 10
	batchFill     = MaxBatchBytes - 4<<10
	// AdBatchTimeout bounds one batch query, asked or answered.
	AdBatchTimeout = 5 * time.Second
	// MaxAdBatchStreams bounds the batches a volunteer answers at once.
	MaxAdBatchStreams = 16
	// BatchVolunteers is how many volunteers a requester asks.
	BatchVolunteers = 2
	maxAskFrame     = 512
	// maxSignedAd caps one entry: an ad and the message around it (its
	// topic, author, sequence number, signature and, for RSA authors,
	// key).
	maxSignedAd = MaxAdSize + 1024
)

// batchAsk is a requester's question: the ads whose capabilities include
// Cap (all, when empty), at most Max of them (MaxBatchAds when 0).
type batchAsk struct {
	Cap string `json:"cap,omitempty"`
	Max int    `json:"max,omitempty"`
}

// batchAnswer is a volunteer's answer: signed ads (pb.Message, protobuf).
type batchAnswer struct {
	Ads [][]byte `json:"ads"`
}

// ErrBadBatch reports a batch answer refused whole: malformed, over its
// limits, or not answering what was asked.
var ErrBadBatch = errors.New("bad ad batch")

// VolunteerAds serves AdBatchProtocol (ServeAdBatches) and records this
// host in the DHT under VolunteerCapability, until ctx ends. The caller
// decides who volunteers (the relay setting: a public, unmetered node
// whose owner agreed). The DHT record's first publication's error is
// returned; the service runs whatever it is.
func (n *Host) VolunteerAds(ctx context.Context) error {
	if err := n.ServeAdBatches(ctx); err != nil {
		return err
	}
	return n.Advertise(ctx, VolunteerCapability)
}

// ServeAdBatches answers AdBatchProtocol from this host's ad table until
// ctx ends or the host closes. Only a host on the ads topic (not
// Config.PullAds) holds ads to hand out.
func (n *Host) ServeAdBatches(ctx context.Context) error {
	b := n.ads
	if b.topic == nil {
		return errors.New("volunteering ads: this node is off the ads topic (--ads pull), so it holds no ads to hand out")
	}
	slots := make(chan struct{}, MaxAdBatchStreams)
	n.h.SetStreamHandler(AdBatchProtocol, func(s network.Stream) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			b.serveBatch(s)
		default:
			_ = s.Reset() // busy: the requester asks another
		}
	})
	if !n.goLoop(func(hctx context.Context) {
		select {
		case <-ctx.Done():
		case <-hctx.Done():
		}
		n.h.RemoveStreamHandler(AdBatchProtocol)
	}) {
		n.h.RemoveStreamHandler(AdBatchProtocol)
		return ErrClosed
	}
	return nil
}

// serveBatch answers one batch query.
func (b *adBoard) serveBatch(s network.Stream) {
	_ = s.SetDeadline(time.Now().Add(AdBatchTimeout))
	log := b.n.log.With("from", s.Conn().RemotePeer())
	e, err := wire.ReadFrame(s, maxAskFrame)
	if err == nil {
		err = wire.Expect(e, TypeAdBatchAsk, 1)
	}
	var ask batchAsk
	if err == nil {
		err = decodeAsk(e.Payload, &ask)
	}
	if err != nil {
		log.Debug("ad batch query refused", "err", err)
		_ = wire.WriteError(s, "bad-request", err.Error())
		_ = s.Close()
		return
	}
	if b.publicOnly.Load() && !b.n.RelayServing() {
		_ = wire.WriteError(s, "not-public", "this node is not reached directly now: ask another volunteer")
		_ = s.Close()
		return
	}
	ans := batchAnswer{Ads: b.batch(ask, b.now())}
	payload, err := json.Marshal(ans)
	if err == nil {
		err = wire.WriteFrame(s, MaxBatchBytes, wire.Envelope{Type: TypeAdBatch, Version: 1, Payload: payload})
	}
	if err != nil {
		log.Debug("ad batch answer", "err", err)
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

// decodeAsk reads and checks a batch question.
func decodeAsk(b []byte, ask *batchAsk) error {
	if err := json.Unmarshal(b, ask); err != nil {
		return fmt.Errorf("question: %w", err)
	}
	if len(ask.Cap) > MaxAdText || !utf8.ValidString(ask.Cap) {
		return fmt.Errorf("cap: longer than %d bytes or not UTF-8", MaxAdText)
	}
	if ask.Max < 0 || ask.Max > MaxBatchAds {
		return fmt.Errorf("max: %d, want 0 (all, up to %d) to %d", ask.Max, MaxBatchAds, MaxBatchAds)
	}
	return nil
}

// batch is the signed ads this board holds that answer ask at now:
// unexpired, of the capability asked, the newest first, within the
// answer's count and byte limits.
func (b *adBoard) batch(ask batchAsk, now time.Time) [][]byte {
	limit := ask.Max
	if limit == 0 {
		limit = MaxBatchAds
	}
	b.mu.Lock()
	var held []*adPeer
	for _, p := range b.peers {
		if p.signed != nil && p.ad.ExpiresAt.After(now) && (ask.Cap == "" || slices.Contains(p.ad.Capabilities, ask.Cap)) {
			held = append(held, p)
		}
	}
	b.mu.Unlock()
	slices.SortFunc(held, func(x, y *adPeer) int { return y.ad.IssuedAt.Compare(x.ad.IssuedAt) })
	var out [][]byte
	size := 0
	for _, p := range held {
		// JSON carries each entry in base64 and quotes: 4/3 and 3 bytes.
		cost := (len(p.signed)+2)/3*4 + 3
		if len(out) == limit || size+cost > batchFill {
			break
		}
		out = append(out, p.signed)
		size += cost
	}
	return out
}

// AdBatch is what one volunteer's answer gave.
type AdBatch struct {
	// Ads are the ads taken: each signed by its provider, of this
	// network, valid and newer than any held of the same provider.
	Ads []Ad
	// Held counts entries valid but not newer than an ad already held
	// (or over a provider's rate); Rejected those that failed a check
	// (forged, altered, of another network, malformed, expired).
	Held, Rejected int
	// Bytes is the answer's size on the wire.
	Bytes int
}

// QueryAdBatch asks volunteer p for the ads of capability (all when
// empty), at most max (MaxBatchAds when 0). Every entry is checked as a
// gossiped ad is, after its provider's signature and its topic; those
// taken are filed in the ad table (CurrentAds, Ads' listeners) with
// their signed form. The query is coordination: it may go through a
// relay. The error wraps ErrBadBatch when the answer is refused whole.
func (n *Host) QueryAdBatch(ctx context.Context, p peer.ID, capability string, max int) (AdBatch, error) {
	if max < 0 || max > MaxBatchAds {
		return AdBatch{}, fmt.Errorf("ad batch: max %d, want 0 to %d", max, MaxBatchAds)
	}
	ctx, cancel := context.WithTimeout(ctx, AdBatchTimeout)
	defer cancel()
	s, err := n.h.NewStream(network.WithAllowLimitedConn(ctx, AdBatchProtocol), p, AdBatchProtocol)
	if err != nil {
		return AdBatch{}, err
	}
	defer func() { _ = s.Reset() }() // after a whole answer, a no-op
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	_ = s.SetDeadline(time.Now().Add(AdBatchTimeout))
	q, err := json.Marshal(batchAsk{Cap: capability, Max: max})
	if err != nil {
		return AdBatch{}, err
	}
	if err := wire.WriteFrame(s, maxAskFrame, wire.Envelope{Type: TypeAdBatchAsk, Version: 1, Payload: q}); err != nil {
		return AdBatch{}, fmt.Errorf("ad batch question: %w", err)
	}
	e, err := wire.ReadFrame(s, MaxBatchBytes)
	if err != nil {
		return AdBatch{}, fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	if err := wire.Expect(e, TypeAdBatch, 1); err != nil {
		return AdBatch{}, err
	}
	var ans batchAnswer
	if err := json.Unmarshal(e.Payload, &ans); err != nil {
		return AdBatch{}, fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	want := max
	if want == 0 {
		want = MaxBatchAds
	}
	if len(ans.Ads) > want {
		return AdBatch{}, fmt.Errorf("%w: %d ads, asked for at most %d", ErrBadBatch, len(ans.Ads), want)
	}
	out := AdBatch{Bytes: len(e.Payload)}
	for _, signed := range ans.Ads {
		ad, res, err := n.ads.judgeSigned(signed)
		switch {
		case err != nil:
			out.Rejected++
			n.log.Debug("ad from a batch rejected", "volunteer", p, "err", err)
		case res == pubsub.ValidationAccept && (capability == "" || slices.Contains(ad.Capabilities, capability)):
			n.ads.deliver(ad, signed)
			out.Ads = append(out.Ads, ad)
		case res == pubsub.ValidationAccept:
			// Valid but not what was asked: filed, not counted as an answer.
			n.ads.deliver(ad, signed)
			out.Held++
		case res == pubsub.ValidationReject:
			out.Rejected++
		default:
			out.Held++
		}
	}
	if out.Rejected > 0 {
		n.log.Warn("a volunteer's ad batch held ads that failed their checks", "volunteer", p, "rejected", out.Rejected, "taken", len(out.Ads))
	}
	return out, nil
}

// judgeSigned checks one batch entry: a GossipSub message of this
// network's ads topic, signed by its author, whose ad then passes judge
// (the gossip validator's checks). err is set when the message itself
// fails; res is judge's verdict on the ad otherwise.
func (b *adBoard) judgeSigned(signed []byte) (Ad, pubsub.ValidationResult, error) {
	if len(signed) > maxSignedAd {
		return Ad{}, pubsub.ValidationReject, fmt.Errorf("signed ad of %d bytes, cap %d", len(signed), maxSignedAd)
	}
	var m pb.Message
	if err := proto.Unmarshal(signed, &m); err != nil {
		return Ad{}, pubsub.ValidationReject, fmt.Errorf("signed ad: %w", err)
	}
	if m.GetTopic() != b.n.names.adsTopic {
		return Ad{}, pubsub.ValidationReject, fmt.Errorf("topic %.64q is not this network's ads topic %q", m.GetTopic(), b.n.names.adsTopic)
	}
	from, err := verifySigned(&m)
	if err != nil {
		return Ad{}, pubsub.ValidationReject, err
	}
	ad, res := b.judge(from, m.Data)
	return ad, res, nil
}

// verifySigned checks a GossipSub message's signature as GossipSub does
// with StrictSign (go-libp2p-pubsub's verifyMessageSignature, which it
// does not export): the author's key, from its peer ID or the attached
// key matching it, over SignPrefix and the message without signature
// and key. It returns the author.
func verifySigned(m *pb.Message) (peer.ID, error) {
	from, err := peer.IDFromBytes(m.From)
	if err != nil {
		return "", fmt.Errorf("signed ad: author: %w", err)
	}
	var key crypto.PubKey
	if m.Key == nil {
		key, err = from.ExtractPublicKey()
	} else if key, err = crypto.UnmarshalPublicKey(m.Key); err == nil && !from.MatchesPublicKey(key) {
		err = errors.New("the attached key is not the author's")
	}
	if err != nil || key == nil {
		return "", fmt.Errorf("signed ad: author's key: %v", err)
	}
	bare := proto.CloneOf(m)
	bare.Signature, bare.Key = nil, nil
	data, err := proto.Marshal(bare)
	if err != nil {
		return "", err
	}
	ok, err := key.Verify(append([]byte(pubsub.SignPrefix), data...), m.Signature)
	if err != nil || !ok {
		return "", fmt.Errorf("signed ad: the signature is not its author's (%v)", err)
	}
	return from, nil
}
