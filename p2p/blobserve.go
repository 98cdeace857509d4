package p2p

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// MaxBlobGrants bounds the grants a host keeps (GrantBlob); past it,
// expired grants go first, then the ones closest to expiring.
const MaxBlobGrants = 1 << 16

// blobServer is what a host serves over /spare/blob/1.0.0: the sources
// its users registered, and which peer may fetch which blob. Content is
// addressed by digest, but knowing a digest is no licence to read it: a
// requester's private inputs and a job's outputs go only to the peers
// their owner granted them to.
type blobServer struct {
	mu      sync.Mutex
	sources []BlobSource
	grants  map[blobGrant]grantState
	serving bool
}

// grantState is how long a grant lasts and whether its peer has fetched
// the blob to its end since it was granted.
type grantState struct {
	until  time.Time
	served bool
}

type blobGrant struct {
	peer peer.ID
	d    Digest
}

// ServeBlobs adds src to what this host serves (a source already added is
// not added again). A blob goes only to a peer it was granted to
// (GrantBlob); to anyone else it does not exist.
func (n *Host) ServeBlobs(src BlobSource) {
	b := &n.blobs
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.sources {
		if sameSource(s, src) {
			return
		}
	}
	b.sources = append(b.sources, src)
	if !b.serving {
		b.serving = true
		n.h.SetStreamHandler(BlobProtocol, func(s network.Stream) { n.serveBlob(s) })
	}
}

// StopServing removes src, added by ServeBlobs, from what this host serves.
func (n *Host) StopServing(src BlobSource) {
	b := &n.blobs
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sources = slices.DeleteFunc(b.sources, func(s BlobSource) bool { return sameSource(s, src) })
}

// sameSource compares sources whose type allows it (a FileStore by its
// directory); others are taken to differ.
func sameSource(a, b BlobSource) bool {
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// GrantBlob lets peer p fetch the blob with digest d for ttl (extending an
// earlier grant, never shortening it). The blob is owed to p (OwedBlobs)
// until p fetches it to its end, even if p fetched it under an earlier
// grant: the same output of another job is owed again.
func (n *Host) GrantBlob(p peer.ID, d Digest, ttl time.Duration) {
	b := &n.blobs
	until := time.Now().Add(ttl)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.grants == nil {
		b.grants = map[blobGrant]grantState{}
	}
	k := blobGrant{p, d}
	old, ok := b.grants[k]
	if ok && old.until.After(until) {
		until = old.until
	}
	if !ok && len(b.grants) >= MaxBlobGrants {
		b.pruneLocked(time.Now())
	}
	b.grants[k] = grantState{until: until}
}

// OwedBlobs lists the blobs some peer may still fetch from this host and
// has not yet fetched to their end: each holds an unexpired grant
// (GrantBlob). A blob fetched in full, or whose grants expired, is owed
// to nobody; the host's owner may delete it.
func (n *Host) OwedBlobs() map[Digest]bool {
	b := &n.blobs
	now := time.Now()
	owed := map[Digest]bool{}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, g := range b.grants {
		if !g.served && g.until.After(now) {
			owed[k.d] = true
		}
	}
	return owed
}

// served records that p fetched d to its end.
func (b *blobServer) served(p peer.ID, d Digest) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if g, ok := b.grants[blobGrant{p, d}]; ok {
		g.served = true
		b.grants[blobGrant{p, d}] = g
	}
}

// pruneLocked drops expired grants and, when still full, the one that
// expires first.
func (b *blobServer) pruneLocked(now time.Time) {
	var first blobGrant
	var firstUntil time.Time
	for k, g := range b.grants {
		until := g.until
		if !until.After(now) {
			delete(b.grants, k)
			continue
		}
		if firstUntil.IsZero() || until.Before(firstUntil) {
			first, firstUntil = k, until
		}
	}
	if len(b.grants) >= MaxBlobGrants {
		delete(b.grants, first)
	}
}

// open returns the blob d for peer p, or an error wrapping
// ErrBlobNotFound when p holds no grant for it or no source has it.
func (b *blobServer) open(p peer.ID, d Digest) (io.ReadSeekCloser, int64, error) {
	b.mu.Lock()
	g, ok := b.grants[blobGrant{p, d}]
	sources := b.sources
	b.mu.Unlock()
	if !ok || !g.until.After(time.Now()) {
		return nil, 0, fmt.Errorf("%w: %s (not granted to %s)", ErrBlobNotFound, d, p)
	}
	for _, src := range sources {
		r, size, err := src.OpenBlob(d)
		if errors.Is(err, ErrBlobNotFound) {
			continue
		}
		return r, size, err
	}
	return nil, 0, fmt.Errorf("%w: %s", ErrBlobNotFound, d)
}
