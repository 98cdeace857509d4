package market

import (
	"sync"
	"time"

	"github.com/sparegpu/spare/p2p"
)

// maxKnownAds bounds the ads a requester remembers from direct queries.
const maxKnownAds = 4096

// knownAds are the ads a requester heard by asking providers directly. A
// long-running requester (the daemon's) starts its next discovery from
// them, as it does from the gossip ads its host keeps: providers publish
// to the network rarely, and not for each newcomer.
type knownAds struct {
	mu  sync.Mutex
	ads map[string]p2p.Ad
}

// put remembers a provider's ad, or forgets it when gone (the provider
// said it takes no work now).
func (k *knownAds) put(peer string, ad p2p.Ad, gone bool, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gone || ad.Peer == "" {
		delete(k.ads, peer)
		return
	}
	if k.ads == nil {
		k.ads = map[string]p2p.Ad{}
	}
	if _, ok := k.ads[peer]; !ok && len(k.ads) >= maxKnownAds {
		k.pruneLocked(now)
		if len(k.ads) >= maxKnownAds {
			return
		}
	}
	k.ads[peer] = ad
}

// live returns the remembered ads that have not expired.
func (k *knownAds) live(now time.Time) map[string]p2p.Ad {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pruneLocked(now)
	out := make(map[string]p2p.Ad, len(k.ads))
	for p, a := range k.ads {
		out[p] = a
	}
	return out
}

func (k *knownAds) pruneLocked(now time.Time) {
	for p, a := range k.ads {
		if !a.ExpiresAt.After(now) {
			delete(k.ads, p)
		}
	}
}
