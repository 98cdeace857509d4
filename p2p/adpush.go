package p2p

import (
	"context"
	"slices"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/p2p/wire"
)

// AdPushProtocol hands a peer that has just joined this host's ads mesh
// the host's own current ad. GossipSub pushes an ad to the mesh peers of
// the moment it is published and gossips it only to peers outside the
// mesh: a peer grafted right after the ad went out (a requester that has
// just connected) would otherwise hear it only at the next round
// (AdRepublish, minutes later).
//
// Wire: the host that grafted the peer (or was grafted by it) opens the
// stream, writes Envelope{Type: TypeAdPush, Version: 1, Payload: the ad as
// published (EncodeAd)} and closes. The receiver takes it only from a
// peer of its own ads topic (its own network), only the sender's own ad
// (the stream's transport authenticates the sender), and through the
// same checks as a gossiped ad (adBoard.judge: size, fields, lifetime,
// sequence, rate).
const AdPushProtocol = "/spare/ads/push/1.0.0"

// Limits of the ad push.
const (
	TypeAdPush uint64 = 1
	// AdPushTimeout bounds one push, sent or received.
	AdPushTimeout = 5 * time.Second
	// MaxAdPushStreams bounds the pushes received at once, from all peers.
	MaxAdPushStreams = 16
	// adPushQueue is how many grafts wait for their push; more are
	// dropped (the peer hears the ad at the next round).
	adPushQueue  = 64
	maxPushFrame = MaxAdSize + 64
)

// servePush answers AdPushProtocol and pushes the host's own ad to each
// peer newly grafted into the ads mesh until ctx ends.
func (b *adBoard) servePush(ctx context.Context) {
	b.n.h.SetStreamHandler(AdPushProtocol, b.receivePush)
	defer b.n.h.RemoveStreamHandler(AdPushProtocol)
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-b.n.trace.grafted:
			if err := b.push(ctx, p); err != nil {
				b.n.log.Debug("ad push failed", "peer", p, "err", err)
			}
		}
	}
}

// push sends the host's own live ad, if any, to p.
func (b *adBoard) push(ctx context.Context, p peer.ID) error {
	b.mu.Lock()
	own, live := b.own, b.now().Before(b.ownExpires)
	b.mu.Unlock()
	if own == nil || !live {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, AdPushTimeout)
	defer cancel()
	s, err := b.n.h.NewStream(ctx, p, AdPushProtocol)
	if err != nil {
		return err
	}
	_ = s.SetDeadline(time.Now().Add(AdPushTimeout))
	if err := wire.WriteFrame(s, maxPushFrame, wire.Envelope{Type: TypeAdPush, Version: 1, Payload: own}); err != nil {
		_ = s.Reset()
		return err
	}
	return s.Close()
}

// receivePush takes a pushed ad (see AdPushProtocol).
func (b *adBoard) receivePush(s network.Stream) {
	from := s.Conn().RemotePeer()
	log := b.n.log.With("from", from)
	if !slices.Contains(b.topic.ListPeers(), from) {
		log.Debug("ad push refused: not a peer of this network's ads topic")
		_ = s.Reset()
		return
	}
	_ = s.SetDeadline(time.Now().Add(AdPushTimeout))
	e, err := wire.ReadFrame(s, maxPushFrame)
	if err == nil {
		err = wire.Expect(e, TypeAdPush, 1)
	}
	if err != nil {
		log.Debug("ad push rejected", "err", err)
		_ = s.Reset()
		return
	}
	if ad, res := b.judge(from, e.Payload); res == pubsub.ValidationAccept {
		b.deliver(ad, nil)
	}
	_ = s.Close()
}

// pushRecord keeps the host's own ad as published, for AdPushProtocol.
func (b *adBoard) pushRecord(data []byte, ad Ad) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.own, b.ownExpires = data, ad.ExpiresAt
}

// graftedPeer queues p, newly in the ads mesh, for a push; it never
// blocks (it runs in GossipSub's event loop).
func (g *gossipTracer) graftedPeer(p peer.ID, topic string) {
	if topic != g.topic {
		return
	}
	select {
	case g.grafted <- p:
	default:
	}
}
