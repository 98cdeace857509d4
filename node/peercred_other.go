//go:build !linux

package node

import (
	"context"
	"net"

	"github.com/sparegpu/spare/market"
)

// withPeerCred is a no-op where SO_PEERCRED is unavailable; the socket's
// owner-only mode is the check there.
func withPeerCred(ctx context.Context, _ net.Conn) context.Context { return ctx }

// sameUser relies on the socket's mode where the peer cannot be asked.
func sameUser(context.Context) error { return nil }

// outputOwner leaves outputs to the daemon's user where the peer cannot
// be asked.
func outputOwner(context.Context) *market.Owner { return nil }
