package p2p

import (
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
)

// gossipTracer follows GossipSub's mesh for the ads topic and counts the
// bytes of every RPC sent and received (messages, gossip and control): the
// true cost of capacity ads, reported by AdTraffic.
type gossipTracer struct {
	sent, recv atomic.Uint64
	sentMsgs   atomic.Uint64 // of sent: whole messages (ads)
	sentCtl    atomic.Uint64 // of sent: control (IHAVE, IWANT, IDONTWANT, GRAFT, PRUNE)
	sentMsgN   atomic.Uint64 // messages sent
	dropped    atomic.Uint64 // RPCs dropped: the peer's outbound queue was full

	mu      sync.Mutex
	topic   string // the ads topic followed
	mesh    map[peer.ID]bool
	judged  int           // messages received and validated (any outcome)
	changed chan struct{} // closed and replaced on every change above

	// grafted receives each peer newly in the ads mesh (see
	// AdPushProtocol); full, it drops.
	grafted chan peer.ID
}

var _ pubsub.RawTracer = (*gossipTracer)(nil)

func newGossipTracer(topic string) *gossipTracer {
	return &gossipTracer{topic: topic, mesh: map[peer.ID]bool{}, changed: make(chan struct{}), grafted: make(chan peer.ID, adPushQueue)}
}

func (g *gossipTracer) setMesh(p peer.ID, topic string, in bool) {
	if topic != g.topic {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if in {
		g.mesh[p] = true
	} else {
		delete(g.mesh, p)
	}
	close(g.changed)
	g.changed = make(chan struct{})
}

func (g *gossipTracer) judge(m *pubsub.Message) {
	if m.GetTopic() != g.topic || m.Local || m.ReceivedFrom == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.judged++
	close(g.changed)
	g.changed = make(chan struct{})
}

// state is the current ads mesh, the count of received ads judged by the
// validator, and a channel closed at the next change of either.
func (g *gossipTracer) state() (map[peer.ID]bool, int, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := make(map[peer.ID]bool, len(g.mesh))
	for p := range g.mesh {
		m[p] = true
	}
	return m, g.judged, g.changed
}

func (g *gossipTracer) Graft(p peer.ID, topic string) {
	g.setMesh(p, topic, true)
	g.graftedPeer(p, topic)
}
func (g *gossipTracer) Prune(p peer.ID, topic string)                        { g.setMesh(p, topic, false) }
func (g *gossipTracer) RemovePeer(p peer.ID)                                 { g.setMesh(p, g.topic, false) }
func (g *gossipTracer) RecvRPC(rpc *pubsub.RPC)                              { g.recv.Add(uint64(proto.Size(&rpc.RPC))) }
func (g *gossipTracer) SendRPC(rpc *pubsub.RPC, _ peer.ID)                   { g.count(rpc) }
func (g *gossipTracer) AddPeer(peer.ID, protocol.ID)                         {}
func (g *gossipTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (g *gossipTracer) OnClosedOutboundStream(peer.ID)                       {}
func (g *gossipTracer) Join(string)                                          {}
func (g *gossipTracer) Leave(string)                                         {}
func (g *gossipTracer) ValidateMessage(*pubsub.Message)                      {}
func (g *gossipTracer) DeliverMessage(m *pubsub.Message)                     { g.judge(m) }
func (g *gossipTracer) RejectMessage(m *pubsub.Message, _ string)            { g.judge(m) }
func (g *gossipTracer) DuplicateMessage(*pubsub.Message)                     {}
func (g *gossipTracer) ThrottlePeer(peer.ID)                                 {}
func (g *gossipTracer) DropRPC(*pubsub.RPC, peer.ID)                         { g.dropped.Add(1) }
func (g *gossipTracer) UndeliverableMessage(*pubsub.Message)                 {}
func (g *gossipTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}

func (g *gossipTracer) count(rpc *pubsub.RPC) {
	g.sent.Add(uint64(proto.Size(&rpc.RPC)))
	for _, m := range rpc.Publish {
		g.sentMsgs.Add(uint64(proto.Size(m)))
		g.sentMsgN.Add(1)
	}
	if rpc.Control != nil {
		g.sentCtl.Add(uint64(proto.Size(rpc.Control)))
	}
}

// AdTrafficSent splits the GossipSub bytes this host has sent: count whole
// messages (ads, as published and as forwarded) of messages bytes, and
// control (gossip about
// messages, IHAVE/IWANT/IDONTWANT, and mesh upkeep, GRAFT/PRUNE). The rest
// of AdTraffic's sent bytes is framing and subscriptions.
func (n *Host) AdTrafficSent() (count, messages, control uint64) {
	return n.trace.sentMsgN.Load(), n.trace.sentMsgs.Load(), n.trace.sentCtl.Load()
}

// AdRPCsDropped is how many GossipSub RPCs this host dropped because a
// peer's outbound queue was full (a peer, or this host, falling behind).
func (n *Host) AdRPCsDropped() uint64 { return n.trace.dropped.Load() }

// AdTraffic is the GossipSub bytes this host has sent and received since
// it started (ads, gossip and control; all topics, in practice the ads).
func (n *Host) AdTraffic() (sent, received uint64) {
	return n.trace.sent.Load(), n.trace.recv.Load()
}
