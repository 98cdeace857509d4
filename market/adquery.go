package market

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/p2p/wire"
)

// AdProtocol answers "what do you offer now?" with the provider's current
// ad, so a requester that has just found a provider (in the DHT, or by
// connecting) need not wait for the next gossip round.
//
// Wire: the requester opens the stream and reads one frame; the provider
// writes Envelope{Type: TypeAdReply, Version: 1, Payload: p2p.EncodeAd(ad)}
// or an error frame ("unavailable") and closes. The stream's transport
// authenticates the provider, so the ad's peer must be the stream's peer.
const AdProtocol = "/spare/ad/1.0.0"

// Limits of the ad protocol.
const (
	TypeAdReply    uint64 = 1
	adUnavailable         = "unavailable" // error code: takes no work now
	adQueryTimeout        = 5 * time.Second
	maxAdFrame            = p2p.MaxAdSize + 64
)

// ServeAds answers ad queries on h with current(), which returns false
// while the provider takes no work.
func ServeAds(h *p2p.Host, current func(now time.Time) (p2p.Ad, bool)) {
	h.LibP2P().SetStreamHandler(AdProtocol, func(s network.Stream) {
		_ = s.SetDeadline(time.Now().Add(adQueryTimeout))
		ad, ok := current(time.Now())
		if !ok {
			_ = wire.WriteError(s, adUnavailable, "not taking work now")
			_ = s.Close()
			return
		}
		ad.Peer = h.ID()
		if ad.Seq == 0 {
			ad.Seq = uint64(time.Now().UnixNano())
		}
		b, err := p2p.EncodeAd(ad)
		if err == nil {
			err = wire.WriteFrame(s, maxAdFrame, wire.Envelope{Type: TypeAdReply, Version: 1, Payload: b})
		}
		if err != nil {
			_ = s.Reset()
			return
		}
		_ = s.Close()
	})
}

// QueryAd asks p for its current ad. The query is coordination, under a
// kilobyte, so it may go through a relay (a limited connection) rather
// than wait for hole punching: a provider that can be reached only
// through one is still heard from, and then refused for the job itself
// with the reason (ErrRelayOnly) instead of never heard of.
func QueryAd(ctx context.Context, h *p2p.Host, p peer.ID) (p2p.Ad, error) {
	ctx, cancel := context.WithTimeout(ctx, adQueryTimeout)
	defer cancel()
	s, err := h.LibP2P().NewStream(network.WithAllowLimitedConn(ctx, AdProtocol), p, AdProtocol)
	if err != nil {
		return p2p.Ad{}, err
	}
	_ = s.SetDeadline(time.Now().Add(adQueryTimeout))
	e, err := wire.ReadFrame(s, maxAdFrame)
	if err != nil {
		_ = s.Reset()
		return p2p.Ad{}, err
	}
	_ = s.Close()
	if err := wire.Expect(e, TypeAdReply, 1); err != nil {
		return p2p.Ad{}, err
	}
	ad, err := p2p.DecodeAd(e.Payload, time.Now())
	if err != nil {
		return p2p.Ad{}, err
	}
	if ad.Peer != p {
		return p2p.Ad{}, fmt.Errorf("%w: ad names %s but came from %s", p2p.ErrBadAd, ad.Peer, p)
	}
	h.NoteAd(ad)
	return ad, nil
}
