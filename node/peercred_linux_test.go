package node

import (
	"context"
	"os"
	"testing"

	"github.com/sparegpu/spare/market"
)

// TestOutputOwner: a daemon running as root gives a submitted job's
// outputs to the calling user and group; one running as that user keeps
// them, and an unknown caller gets nothing chowned.
func TestOutputOwner(t *testing.T) {
	ctx := context.WithValue(context.WithValue(context.Background(), peerUIDKey{}, 1234), peerGIDKey{}, 5678)
	got := outputOwner(ctx)
	switch {
	case os.Geteuid() == 0 && (got == nil || *got != market.Owner{UID: 1234, GID: 5678}):
		t.Fatalf("as root: owner %+v, want 1234:5678", got)
	case os.Geteuid() != 0 && got != nil:
		t.Fatalf("as user %d: owner %+v, want none", os.Geteuid(), got)
	}
	if o := outputOwner(context.Background()); o != nil {
		t.Fatalf("unknown caller: owner %+v", o)
	}
}
