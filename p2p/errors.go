package p2p

import "errors"

// Sentinel errors; match with errors.Is.
var (
	// ErrKeyPermissions: the identity key is readable by other users.
	ErrKeyPermissions = errors.New("identity key has unsafe permissions")
	// ErrBadKey: the identity key file is not an Ed25519 libp2p key.
	ErrBadKey = errors.New("identity key unreadable")
	// ErrBadAddr: a multiaddr could not be parsed or lacks its /p2p/ part.
	ErrBadAddr = errors.New("bad multiaddr")
	// ErrClosed: the host was closed.
	ErrClosed = errors.New("p2p host closed")
	// ErrNoPeers: no DHT peer is known yet.
	ErrNoPeers = errors.New("no DHT peers")
	// ErrBadAd: an ad failed validation; the message says which rule.
	ErrBadAd = errors.New("invalid ad")
	// ErrRateLimited: a peer sent more than its share.
	ErrRateLimited = errors.New("rate limited")
	// ErrDigestMismatch: received bytes do not hash to the requested digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrBlobNotFound: the peer does not hold the requested blob.
	ErrBlobNotFound = errors.New("blob not found")
	// ErrBlobTooLarge: a blob is larger than the caller's cap.
	ErrBlobTooLarge = errors.New("blob too large")
	// ErrBadConfig: a Config field is out of its bounds; the message names it.
	ErrBadConfig = errors.New("bad p2p configuration")
	// ErrBadDigest: a string is not a sha256 digest.
	ErrBadDigest = errors.New("bad digest")
)
