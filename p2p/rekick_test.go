package p2p

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestRekickReconnects: a requester that reaches a provider only through
// a relay, with which no punch begins though the requester can answer one
// (a provider that punched, once, before the requester was ready), closes
// the relayed connection and connects through the relay again, at most
// punchRetries times, and refuses as relay-only once its dial timeout
// ends. On loopback no punch can begin (no host has the public address
// libp2p's DCUtR waits for), and a gater keeps the requester off the
// provider's direct addresses, as the provider's NAT would.
func TestRekickReconnects(t *testing.T) {
	ctx := testCtx(t)
	r := newTestHost(t, Config{NoMDNS: true, forcePublic: true})
	r.SetRelay(true)
	testenv.WaitFor(t, "the relay serving", testTimeout, func() bool { return r.Relay().Serving })
	rinfo := peer.AddrInfo{ID: r.ID(), Addrs: r.LibP2P().Addrs()}

	b := newTestHost(t, Config{NoMDNS: true, forcePrivate: true})
	if err := b.LibP2P().Connect(ctx, rinfo); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reserve(ctx, b.LibP2P(), rinfo); err != nil {
		t.Fatal(err)
	}
	const proto = protocol.ID("/spare/test/rekick/1")
	b.LibP2P().SetStreamHandler(proto, func(s network.Stream) { _ = s.Close() })

	a := newTestHost(t, Config{NoMDNS: true, forcePrivate: true, punchReady: func() bool { return true },
		gater: circuitOnlyTo{b.ID()}})
	var relayed atomic.Int32
	b.LibP2P().Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		if c.RemotePeer() == a.ID() && relayedConn(c) {
			relayed.Add(1)
		}
	}})
	circuit := ma.StringCast(rinfo.Addrs[0].String() + "/p2p/" + r.ID().String() + "/p2p-circuit")
	if err := a.LibP2P().Connect(network.WithAllowLimitedConn(ctx, "test"), peer.AddrInfo{ID: b.ID(), Addrs: []ma.Multiaddr{circuit}}); err != nil {
		t.Fatal(err)
	}

	wait := 3*punchGrace + 6*time.Second // room for both retries, on a loaded machine too
	start := time.Now()
	s, err := a.NewDirectStream(network.WithDialPeerTimeout(ctx, wait), b.ID(), proto)
	if err == nil {
		s.Close()
		t.Fatalf("a stream opened to a peer reached only through a relay (%s)", s.Conn().RemoteMultiaddr())
	}
	if !errors.Is(err, ErrRelayOnly) {
		t.Fatalf("after %v: %v, want ErrRelayOnly (relayed connections %d, now %v)", time.Since(start), err, relayed.Load(), a.LibP2P().Network().Connectedness(b.ID()))
	}
	if n := relayed.Load(); n != 1+punchRetries {
		t.Fatalf("the provider saw %d relayed connections from the requester, want the first and %d again", n, punchRetries)
	}
}

// circuitOnlyTo lets its host and peer p reach each other only through
// a relay, as two NATs would.
type circuitOnlyTo struct{ p peer.ID }

func (g circuitOnlyTo) InterceptPeerDial(peer.ID) bool { return true }
func (g circuitOnlyTo) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return p != g.p || isCircuit(a)
}
func (g circuitOnlyTo) InterceptAccept(network.ConnMultiaddrs) bool { return true }
func (g circuitOnlyTo) InterceptSecured(_ network.Direction, p peer.ID, c network.ConnMultiaddrs) bool {
	return p != g.p || isCircuit(c.RemoteMultiaddr())
}
func (g circuitOnlyTo) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}
