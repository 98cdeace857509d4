package p2p

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestSetRelayLive: the owner's relay setting switches the volunteer
// relay on and off while the host runs. Off, a node behind a NAT cannot
// reserve with it; on (and publicly reachable), it can, and the status
// counts the reservation; off again, the relay is gone.
func TestSetRelayLive(t *testing.T) {
	r := newTestHost(t, Config{NoMDNS: true, forcePublic: true})
	nat := newTestHost(t, Config{NoMDNS: true, forcePrivate: true})
	ctx := testCtx(t)
	info := peer.AddrInfo{ID: r.ID(), Addrs: r.LibP2P().Addrs()}
	if err := nat.LibP2P().Connect(ctx, info); err != nil {
		t.Fatal(err)
	}
	reserve := func() error {
		rctx, cancel := context.WithTimeout(ctx, testTimeout)
		defer cancel()
		_, err := client.Reserve(rctx, nat.LibP2P(), info)
		return err
	}
	if st := r.Relay(); st != (RelayStatus{}) {
		t.Fatalf("a host whose owner did not allow relaying reports %+v", st)
	}
	if err := reserve(); err == nil {
		t.Fatal("a node reserved with a host that does not relay")
	}

	r.SetRelay(true)
	testenv.WaitFor(t, "the relay serving", testTimeout, func() bool { return r.Relay().Serving })
	if err := reserve(); err != nil {
		t.Fatalf("reserving with the volunteer relay: %v", err)
	}
	if st := r.Relay(); st != (RelayStatus{Allowed: true, Serving: true, Reservations: 1}) {
		t.Fatalf("after one reservation the relay reports %+v", st)
	}

	r.SetRelay(false)
	if st := r.Relay(); st != (RelayStatus{}) || r.RelayServing() {
		t.Fatalf("the relay switched off reports %+v, serving %v", st, r.RelayServing())
	}
	if err := reserve(); err == nil {
		t.Fatal("a node reserved with a relay switched off")
	}
}

// TestSetRelayWaitsForPublic: allowed but not publicly reachable, the
// relay service waits (libp2p runs it only for a public host).
func TestSetRelayWaitsForPublic(t *testing.T) {
	h := newTestHost(t, Config{NoMDNS: true, forcePrivate: true})
	h.SetRelay(true)
	if st := h.Relay(); st != (RelayStatus{Allowed: true}) {
		t.Fatalf("a host behind a NAT allowed to relay reports %+v, want allowed and not serving", st)
	}
}
