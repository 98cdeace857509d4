//go:build !linux

package node

import (
	"context"
	"errors"
	"net"
	"os"

	"github.com/sparegpu/spare/market"
)

// withPeerCred is a no-op where SO_PEERCRED is unavailable; the socket's
// owner-only mode is the check there.
func withPeerCred(ctx context.Context, _ net.Conn) context.Context { return ctx }

// peersNamed: the caller's user cannot be asked here; the socket's
// owner-only mode is the check, and whoever passes it administers.
const peersNamed = false

const noFollow = 0

// peerUID is never known here.
func peerUID(context.Context) (int, bool) { return 0, false }

// trustedFile accepts a regular file (the socket's mode is the check here).
func trustedFile(fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return nil
}

// sameUser relies on the socket's mode where the peer cannot be asked.
func sameUser(context.Context) error { return nil }

// outputOwner leaves outputs to the daemon's user where the peer cannot
// be asked.
func outputOwner(context.Context) *market.Owner { return nil }
