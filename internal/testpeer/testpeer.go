// Package testpeer starts a test peer's libp2p host on loopback, closed
// when the test ends (wallettest.Open gives it a wallet). Tests only.
package testpeer

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sparegpu/spare/p2p"
)

// Host starts a libp2p host on loopback, without mDNS, with its identity
// in dir.
func Host(t testing.TB, dir string) *p2p.Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := p2p.New(ctx, p2p.Config{DataDir: dir, LoopbackOnly: true, NoMDNS: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
