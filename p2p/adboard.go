package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"
)

// AdListenerBuffer is the buffer of each Ads channel; a listener that falls
// further behind misses ads (CurrentAds still has them).
const AdListenerBuffer = 256

// adBoard is the ads topic: validator, per-peer state, table of current
// ads and listeners.
type adBoard struct {
	n     *Host
	topic *pubsub.Topic
	sub   *pubsub.Subscription
	now   func() time.Time

	mu        sync.Mutex
	peers     map[peer.ID]*adPeer
	listeners map[chan Ad]struct{}
	lastSeq   uint64
	// own is this host's latest published ad as encoded, live until
	// ownExpires: what AdPushProtocol hands a newly grafted peer.
	own        []byte
	ownExpires time.Time
	// publicOnly: the batches (AdBatchProtocol) are answered only while
	// the volunteer relay serves, this host being public.
	publicOnly atomic.Bool
}

// adPeer is what the board keeps per author.
type adPeer struct {
	bucket tokenBucket
	seq    uint64 // highest accepted
	ad     Ad     // latest accepted
	// signed is ad as its author signed it on the ads topic (a pubsub
	// message, protobuf): what a volunteer hands out in batches
	// (AdBatchProtocol). nil when ad came otherwise (a push, a query).
	signed  []byte
	touched time.Time
}

func newAdBoard(n *Host) (*adBoard, error) {
	b := &adBoard{n: n, now: time.Now, peers: map[peer.ID]*adPeer{}, listeners: map[chan Ad]struct{}{}}
	if n.cfg.PullAds {
		return b, nil // off the topic: no ads heard, own ads only checked
	}
	if err := n.ps.RegisterTopicValidator(n.names.adsTopic, b.validate, pubsub.WithValidatorInline(true)); err != nil {
		return nil, fmt.Errorf("ads validator: %w", err)
	}
	t, err := n.ps.Join(n.names.adsTopic)
	if err != nil {
		return nil, fmt.Errorf("joining %s: %w", n.names.adsTopic, err)
	}
	s, err := t.Subscribe()
	if err != nil {
		return nil, fmt.Errorf("subscribing to %s: %w", n.names.adsTopic, err)
	}
	b.topic, b.sub = t, s
	n.goLoop(b.receive)
	n.goLoop(b.servePush)
	return b, nil
}

// validate is the topic validator: it runs once per message before the
// message is delivered or forwarded.
func (b *adBoard) validate(_ context.Context, _ peer.ID, m *pubsub.Message) pubsub.ValidationResult {
	ad, res := b.judge(m.GetFrom(), m.Data)
	if res == pubsub.ValidationAccept {
		m.ValidatorData = ad
	} else if res == pubsub.ValidationIgnore {
		b.fillSigned(m)
	}
	return res
}

// fillSigned keeps the signed form of an ad held without one: the same
// ad (author and sequence number) came first by AdPushProtocol, and now
// by gossip, signed. The batch protocol hands out only signed ads.
func (b *adBoard) fillSigned(m *pubsub.Message) {
	ad, err := DecodeAd(m.Data, b.now())
	if err != nil || ad.Peer != m.GetFrom() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.peers[ad.Peer]
	if p == nil || p.signed != nil || p.ad.Seq != ad.Seq {
		return
	}
	if signed, err := proto.Marshal(m.Message); err == nil {
		p.ad, p.signed = ad, signed
	}
}

// judge checks an ad signed by from (a gossiped message's author, or the
// peer that pushed its own ad) and records its sequence number when it
// is taken.
func (b *adBoard) judge(from peer.ID, data []byte) (Ad, pubsub.ValidationResult) {
	now := b.now()
	ad, err := DecodeAd(data, now)
	log := b.n.log.With("from", from)
	if err != nil {
		log.Debug("ad rejected", "err", err)
		return Ad{}, pubsub.ValidationReject
	}
	if ad.Peer != from {
		log.Debug("ad rejected: signer is not the ad's peer", "ad_peer", ad.Peer)
		return Ad{}, pubsub.ValidationReject
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.peerLocked(ad.Peer, now)
	if p == nil {
		return Ad{}, pubsub.ValidationIgnore
	}
	p.touched = now
	if ad.Seq <= p.seq {
		log.Debug("ad ignored: stale or replayed seq", "seq", ad.Seq, "have", p.seq)
		return Ad{}, pubsub.ValidationIgnore
	}
	if !p.bucket.allow(now) {
		log.Debug("ad rejected: rate limit", "seq", ad.Seq)
		return Ad{}, pubsub.ValidationReject
	}
	p.seq = ad.Seq
	return ad, pubsub.ValidationAccept
}

// peerLocked is what the board keeps of id, made for a newcomer; nil when
// the table is full (MaxAdPeers) even after pruning.
func (b *adBoard) peerLocked(id peer.ID, now time.Time) *adPeer {
	if p := b.peers[id]; p != nil {
		return p
	}
	if len(b.peers) >= MaxAdPeers {
		b.pruneLocked(now)
	}
	if len(b.peers) >= MaxAdPeers {
		return nil
	}
	p := &adPeer{}
	b.peers[id] = p
	return p
}

// pruneLocked forgets peers whose ad expired and who sent nothing within
// MaxAdLifetime (so a rate limit cannot be reset by waiting out the table).
func (b *adBoard) pruneLocked(now time.Time) {
	for id, p := range b.peers {
		if now.After(p.ad.ExpiresAt) && now.Sub(p.touched) > MaxAdLifetime {
			delete(b.peers, id)
		}
	}
}

func (b *adBoard) receive(ctx context.Context) {
	for {
		m, err := b.sub.Next(ctx)
		if err != nil {
			return
		}
		ad, ok := m.ValidatorData.(Ad)
		if !ok || ad.Peer == b.n.h.ID() {
			continue
		}
		signed, err := proto.Marshal(m.Message)
		if err != nil {
			signed = nil // kept, but not handed out in batches
		}
		b.deliver(ad, signed)
	}
}

// deliver files a judged ad as its peer's current one, with its signed
// form (nil if none), and hands it to the listeners.
func (b *adBoard) deliver(ad Ad, signed []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.peers[ad.Peer]; p != nil && ad.Seq >= p.ad.Seq {
		p.ad, p.signed = ad, signed
	}
	for l := range b.listeners {
		select {
		case l <- ad:
		default:
		}
	}
}

func (b *adBoard) close() {
	if b.topic == nil {
		return
	}
	b.sub.Cancel()
	_ = b.topic.Close()
}

// PublishAd signs and publishes a capacity ad (with Config.PullAds it is
// only checked: requesters query it). Peer is set to this host;
// zero IssuedAt, ExpiresAt and Seq get now, now+DefaultAdLifetime and the
// next sequence number. The ad goes through the same validator as received
// ones, so an invalid or too frequent ad returns an error wrapping ErrBadAd
// or ErrRateLimited.
func (n *Host) PublishAd(ctx context.Context, ad Ad) error {
	b := n.ads
	now := b.now()
	if ad.Peer != "" && ad.Peer != n.h.ID() {
		return fmt.Errorf("%w: peer %s is not this host", ErrBadAd, ad.Peer)
	}
	ad.Peer = n.h.ID()
	if ad.Reach == "" {
		ad.Reach = n.Reachability().Reach
	}
	if ad.IssuedAt.IsZero() {
		ad.IssuedAt = now
	}
	if ad.ExpiresAt.IsZero() {
		ad.ExpiresAt = ad.IssuedAt.Add(DefaultAdLifetime)
	}
	b.mu.Lock()
	if ad.Seq == 0 {
		// Time-based, so it keeps growing across restarts.
		ad.Seq = max(b.lastSeq+1, uint64(now.UnixNano()))
	}
	b.lastSeq = max(b.lastSeq, ad.Seq)
	b.mu.Unlock()
	if err := ad.Validate(now); err != nil {
		return err
	}
	data, err := EncodeAd(ad)
	if err != nil {
		return err
	}
	if b.topic == nil {
		return nil // Config.PullAds: found by DHT lookup and query only
	}
	n.waitAdsMesh(ctx)
	if err := b.topic.Publish(ctx, data); err != nil {
		if errors.Is(err, pubsub.ValidationError{Reason: pubsub.RejectValidationFailed}) {
			return fmt.Errorf("publishing ad: %w (at most one per %s)", ErrRateLimited, AdInterval)
		}
		return fmt.Errorf("publishing ad: %w", err)
	}
	b.pushRecord(data, ad)
	return nil
}

// waitAdsMesh waits, at most AdMeshWait, until the ads mesh holds a peer
// when peers are connected but none is in the mesh yet: right after a
// connection the peers first tell each other their topics, then the next
// heartbeat grafts. Without flood publishing an ad published before that
// would reach nobody. With no peer at all it returns at once: there is
// nobody to wait for.
func (n *Host) waitAdsMesh(ctx context.Context) {
	if len(n.h.Network().Peers()) == 0 {
		return
	}
	limit := time.NewTimer(AdMeshWait)
	defer limit.Stop()
	for {
		mesh, _, changed := n.trace.state()
		if len(mesh) > 0 {
			return
		}
		select {
		case <-changed:
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		case <-n.ctx.Done():
			return
		}
	}
}

// KeepPublishing publishes the ad returned by next now and every
// AdRepublish until ctx ends or the host closes; next returning false
// skips a round (e.g. while the provider cannot take work).
func (n *Host) KeepPublishing(ctx context.Context, next func() (Ad, bool)) {
	n.goLoop(func(hctx context.Context) {
		t := time.NewTicker(AdRepublish)
		defer t.Stop()
		for {
			if ad, ok := next(); ok {
				if err := n.PublishAd(ctx, ad); err != nil && ctx.Err() == nil {
					n.log.Warn("publishing ad", "err", err)
				}
			}
			select {
			case <-hctx.Done():
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// Ads delivers every valid ad received from other peers from now until ctx
// ends. The channel is buffered (AdListenerBuffer); a slow reader misses
// ads but CurrentAds keeps the latest per peer.
func (n *Host) Ads(ctx context.Context) <-chan Ad {
	b := n.ads
	ch := make(chan Ad, AdListenerBuffer)
	b.mu.Lock()
	b.listeners[ch] = struct{}{}
	b.mu.Unlock()
	remove := func() {
		b.mu.Lock()
		delete(b.listeners, ch)
		close(ch)
		b.mu.Unlock()
	}
	if !n.goLoop(func(hctx context.Context) {
		select {
		case <-ctx.Done():
		case <-hctx.Done():
		}
		remove()
	}) {
		remove()
	}
	return ch
}

// NoteAd keeps an ad its author gave this host directly (an ad query,
// whose stream is the author's: the caller checked that ad.Peer is that
// peer) beside those heard on the ads topic, so that what it says, its
// reachability above all (NewDirectStream), is known to a host that hears
// no topic (Config.PullAds). An invalid, expired or older ad is ignored;
// a newcomer beyond MaxAdPeers too.
func (n *Host) NoteAd(ad Ad) {
	b := n.ads
	now := b.now()
	if ad.Peer == n.h.ID() || ad.Validate(now) != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.peerLocked(ad.Peer, now)
	if p == nil {
		return
	}
	p.touched = now
	if ad.Seq > p.ad.Seq {
		p.ad, p.seq, p.signed = ad, max(p.seq, ad.Seq), nil
	}
}

// CurrentAds is the latest unexpired ad of every peer heard from.
func (n *Host) CurrentAds() []Ad {
	b := n.ads
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Ad
	for _, p := range b.peers {
		if p.ad.Seq != 0 && p.ad.ExpiresAt.After(now) {
			out = append(out, p.ad)
		}
	}
	return out
}
