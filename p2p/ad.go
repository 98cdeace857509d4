package p2p

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Limits on capacity ads. An ad breaking one is rejected and not forwarded.
const (
	// MaxAdSize caps an ad's encoded size in bytes.
	MaxAdSize = 2048
	// MaxAdLifetime caps ExpiresAt - IssuedAt: a long-lived ad would outlive
	// the provider's availability.
	MaxAdLifetime = 10 * time.Minute
	// DefaultAdLifetime is used by PublishAd when ExpiresAt is unset.
	DefaultAdLifetime = MaxAdLifetime
	// AdRepublish is how often KeepPublishing renews an ad: well inside
	// DefaultAdLifetime, so one lost message does not drop a provider.
	// Every host carries every ad, so this sets the gossip cost of the
	// network; a requester does not wait for it (it asks the providers it
	// finds in the DHT for their current ad, see market's AdProtocol).
	AdRepublish = 4 * time.Minute
	// AdMeshWait bounds how long PublishAd waits for the first ads mesh
	// peer when topic peers are connected but none is grafted yet.
	AdMeshWait = 3 * time.Second
	// MaxClockSkew is how far in the future IssuedAt may be.
	MaxClockSkew = 30 * time.Second
	// AdInterval and AdBurst rate-limit each peer's ads (token bucket: one
	// token per AdInterval, at most AdBurst saved).
	AdInterval = 10 * time.Second
	AdBurst    = 3
	// MaxAdText caps every string field; MaxAdCaps the number of capabilities.
	MaxAdText = 128
	MaxAdCaps = 16
	// MaxAdPeers caps the peers tracked by the ad table and rate limiter.
	MaxAdPeers = 10000
)

// Ad is a provider's signed capacity advertisement. It travels as JSON in a
// GossipSub message signed by the provider's libp2p key (StrictSign), and is
// accepted only when that signer is Peer.
type Ad struct {
	Peer           peer.ID   `json:"peer"`
	GPUModel       string    `json:"gpu_model"`
	VRAMMiB        uint64    `json:"vram_mib"`
	CUDA           string    `json:"cuda,omitempty"`
	CPUs           uint32    `json:"cpus"`
	RAMMiB         uint64    `json:"ram_mib"`
	PricePerSecond uint64    `json:"price_per_second"` // smallest currency units
	Benchmark      uint64    `json:"benchmark"`
	Payee          string    `json:"payee"`
	Capabilities   []string  `json:"caps,omitempty"` // e.g. "gpu:nvidia", see CapabilityCID
	IssuedAt       time.Time `json:"issued_at"`
	ExpiresAt      time.Time `json:"expires_at"`
	Seq            uint64    `json:"seq"` // grows with every ad from Peer
	// Reach is how the provider says it is reached (Host.Reachability,
	// stamped by PublishAd); a requester refuses at once a relay-only one
	// it cannot reach directly either (NewDirectStream).
	Reach Reach `json:"reach,omitempty"`
}

// EncodeAd is the wire form of an ad.
func EncodeAd(a Ad) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxAdSize {
		return nil, fmt.Errorf("%w: %d bytes, cap %d", ErrBadAd, len(b), MaxAdSize)
	}
	return b, nil
}

// DecodeAd parses and validates an ad received at now.
func DecodeAd(b []byte, now time.Time) (Ad, error) {
	if len(b) > MaxAdSize {
		return Ad{}, fmt.Errorf("%w: %d bytes, cap %d", ErrBadAd, len(b), MaxAdSize)
	}
	var a Ad
	if err := json.Unmarshal(b, &a); err != nil {
		return Ad{}, fmt.Errorf("%w: %w", ErrBadAd, err)
	}
	if err := a.Validate(now); err != nil {
		return Ad{}, err
	}
	return a, nil
}

// Validate checks an ad's fields against the limits above at time now.
func (a Ad) Validate(now time.Time) error {
	bad := func(f string, args ...any) error {
		return fmt.Errorf("%w: "+f, append([]any{ErrBadAd}, args...)...)
	}
	if err := a.Peer.Validate(); err != nil {
		return bad("peer: %v", err)
	}
	for name, s := range map[string]string{"gpu_model": a.GPUModel, "cuda": a.CUDA, "payee": a.Payee} {
		if len(s) > MaxAdText || !utf8.ValidString(s) {
			return bad("%s: longer than %d bytes or not UTF-8", name, MaxAdText)
		}
	}
	if len(a.Capabilities) > MaxAdCaps {
		return bad("caps: %d entries, cap %d", len(a.Capabilities), MaxAdCaps)
	}
	for _, c := range a.Capabilities {
		if c == "" || len(c) > MaxAdText || !utf8.ValidString(c) {
			return bad("caps: entry empty, too long or not UTF-8")
		}
	}
	switch {
	case a.Seq == 0:
		return bad("seq: zero")
	case a.IssuedAt.IsZero() || a.ExpiresAt.IsZero():
		return bad("issued_at and expires_at are required")
	case a.IssuedAt.After(now.Add(MaxClockSkew)):
		return bad("issued_at %s is in the future", a.IssuedAt.Format(time.RFC3339))
	case !a.ExpiresAt.After(now):
		return bad("expired at %s", a.ExpiresAt.Format(time.RFC3339))
	case !a.ExpiresAt.After(a.IssuedAt):
		return bad("expires_at is not after issued_at")
	case a.ExpiresAt.Sub(a.IssuedAt) > MaxAdLifetime:
		return bad("lifetime %s exceeds %s", a.ExpiresAt.Sub(a.IssuedAt), MaxAdLifetime)
	case !a.Reach.valid():
		return bad("reach: %.32q is not one of %q, %q, %q, %q or empty", a.Reach, ReachUnknown, ReachDirect, ReachHolePunch, ReachRelayOnly)
	}
	return nil
}

// tokenBucket is a per-peer rate limiter driven by an explicit clock.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (b *tokenBucket) allow(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = AdBurst
	} else if el := now.Sub(b.last); el > 0 {
		b.tokens = min(AdBurst, b.tokens+el.Seconds()/AdInterval.Seconds())
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
