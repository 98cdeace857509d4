package p2p

// Identity-copy detection.
//
// What it detects: two processes running at the same time with the same
// identity key (typically a copied data directory) that are both connected
// to a common peer. Every host puts a random per-process instance tag in its
// identify user agent ("spare/x (instance 0123abcd…)"). A host that sees
// one peer ID identify on two open connections with two different tags logs
// a warning and tells both connections over DupProtocol; each copy then
// warns loudly (and calls Config's OnIdentityCopy) with the other copy's
// address as the common peer saw it.
//
// What it does not detect: copies that never share a connected peer at the
// same moment, or copies that run one after the other. The notice comes from
// an untrusted peer, so it only ever causes a warning.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multistream"
	"github.com/sparegpu/spare/p2p/wire"
)

// DupProtocol carries identity-copy notices.
const DupProtocol = "/spare/dup/1.0.0"

// Identity-copy detection limits.
const (
	maxDupTracked   = 4096 // peers whose instance tags are remembered
	maxDupInstances = 8    // instances reported in one notice
	maxDupFrame     = 2048
	dupTimeout      = 10 * time.Second
	dupMsgType      = 1
)

// IdentityCopy is a report that this host's identity is in use elsewhere.
type IdentityCopy struct {
	Instance string // the other process's instance tag
	Addr     string // where the reporting peer saw it
	Reporter peer.ID
}

type dupInstance struct {
	Instance string `json:"instance"`
	Addr     string `json:"addr"`
}

type dupDetector struct {
	n      *Host
	mu     sync.Mutex
	seen   map[peer.ID]map[string]network.Conn // peer → instance → a live conn
	warned map[string]bool                     // instances we warned about
	onCopy func(IdentityCopy)
}

func newDupDetector(n *Host) (*dupDetector, error) {
	d := &dupDetector{n: n, seen: map[peer.ID]map[string]network.Conn{}, warned: map[string]bool{}, onCopy: n.cfg.OnIdentityCopy}
	sub, err := n.h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return nil, fmt.Errorf("identify events: %w", err)
	}
	n.h.SetStreamHandler(DupProtocol, d.handle)
	n.goLoop(func(ctx context.Context) {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				d.identified(ctx, e.(event.EvtPeerIdentificationCompleted))
			}
		}
	})
	return d, nil
}

// instanceOf extracts the instance tag from a Spare user agent.
func instanceOf(agent string) string {
	_, rest, ok := strings.Cut(agent, "(instance ")
	if !ok {
		return ""
	}
	tag, _, ok := strings.Cut(rest, ")")
	if !ok || tag == "" || len(tag) > 64 {
		return ""
	}
	return tag
}

func (d *dupDetector) identified(ctx context.Context, e event.EvtPeerIdentificationCompleted) {
	inst := instanceOf(e.AgentVersion)
	if inst == "" || e.Conn == nil {
		return
	}
	d.mu.Lock()
	m := d.seen[e.Peer]
	if m == nil {
		if len(d.seen) >= maxDupTracked {
			d.pruneLocked()
		}
		if len(d.seen) >= maxDupTracked {
			d.mu.Unlock()
			return
		}
		m = map[string]network.Conn{}
		d.seen[e.Peer] = m
	}
	for k, c := range m {
		if c.IsClosed() {
			delete(m, k)
		}
	}
	if len(m) >= maxDupInstances {
		d.mu.Unlock()
		return
	}
	m[inst] = e.Conn
	if len(m) < 2 {
		d.mu.Unlock()
		return
	}
	var report []dupInstance
	var conns []network.Conn
	for k, c := range m {
		report = append(report, dupInstance{Instance: k, Addr: c.RemoteMultiaddr().String()})
		conns = append(conns, c)
	}
	d.mu.Unlock()

	d.n.log.Warn("one peer identity is running in several places at once (copied data directory?)",
		"peer", e.Peer, "instances", report)
	payload, _ := json.Marshal(report)
	for _, c := range conns {
		d.notify(ctx, c, payload)
	}
}

func (d *dupDetector) pruneLocked() {
	for p, m := range d.seen {
		for k, c := range m {
			if c.IsClosed() {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			delete(d.seen, p)
		}
	}
}

// notify sends the report on one specific connection, so that each copy
// gets it (a plain NewStream would pick any connection to the peer ID).
func (d *dupDetector) notify(ctx context.Context, c network.Conn, payload []byte) {
	ctx, cancel := context.WithTimeout(ctx, dupTimeout)
	defer cancel()
	s, err := c.NewStream(ctx)
	if err != nil {
		return
	}
	_ = s.SetDeadline(time.Now().Add(dupTimeout))
	if err := multistream.SelectProtoOrFail(DupProtocol, s); err != nil {
		_ = s.Reset()
		return
	}
	_ = s.SetProtocol(DupProtocol)
	if err := wire.WriteFrame(s, maxDupFrame, wire.Envelope{Type: dupMsgType, Version: 1, Payload: payload}); err != nil {
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

func (d *dupDetector) handle(s network.Stream) {
	_ = s.SetDeadline(time.Now().Add(dupTimeout))
	e, err := wire.ReadFrame(s, maxDupFrame)
	if err == nil {
		err = wire.Expect(e, dupMsgType, 1)
	}
	var report []dupInstance
	if err == nil {
		err = json.Unmarshal(e.Payload, &report)
	}
	if err != nil || len(report) > maxDupInstances {
		_ = s.Reset()
		return
	}
	_ = s.Close()
	for _, r := range report {
		if r.Instance == d.n.instance || r.Instance == "" || len(r.Instance) > 64 || len(r.Addr) > 256 {
			continue
		}
		d.mu.Lock()
		again := d.warned[r.Instance]
		if len(d.warned) < maxDupTracked {
			d.warned[r.Instance] = true
		}
		d.mu.Unlock()
		if again {
			continue
		}
		c := IdentityCopy{Instance: r.Instance, Addr: r.Addr, Reporter: s.Conn().RemotePeer()}
		d.n.log.Error("THIS NODE'S IDENTITY IS ALSO IN USE ELSEWHERE: another process with the same peer ID "+
			"is running (was the data directory copied?). Stop the copy, or delete "+IdentityFile+
			" in one data directory to give it a new identity.",
			"peer_id", d.n.h.ID(), "other_instance", r.Instance, "other_addr", r.Addr, "reported_by", c.Reporter)
		if d.onCopy != nil {
			d.onCopy(c)
		}
	}
}
