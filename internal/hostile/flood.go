package hostile

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p/wire"
)

// Stall is how a Flooder misbehaves on one job stream.
type Stall string

// The ways a flooded stream misbehaves.
const (
	Idle           Stall = "idle"          // opens the stream, sends nothing
	Partial        Stall = "partial"       // a frame length that promises bytes never sent
	Junk           Stall = "junk"          // random bytes
	Oversized      Stall = "oversized"     // a frame length of 1 GiB
	BadProposal    Stall = "bad-proposal"  // a proposal that fails validation
	OutOfOrder     Stall = "out-of-order"  // a voucher before any agreement
	Propose        Stall = "proposal"      // a valid-looking proposal, reset once answered
	ProposeAndHold Stall = "proposal-hold" // quoted, never agrees, never leaves
)

// Malformed are the stalls of malformed streams; Proposals those of
// valid-looking proposals. A host holding idle streams fills its own
// per-peer quota, so a flood mixing the two would rarely be read.
var (
	Malformed = []Stall{Idle, Partial, Junk, Oversized, BadProposal, OutOfOrder}
	Proposals = []Stall{Propose, ProposeAndHold}
)

// StreamLog is what a flood saw of its streams. Read it once the flood
// is over.
type StreamLog struct {
	mu       sync.Mutex
	Opened   int
	Failed   int // NewStream itself failed (reset by a limit)
	Quotes   int
	Refusals int
	Longest  map[Stall]time.Duration
}

func (l *StreamLog) add(kind Stall, d time.Duration, got market.Message, openErr error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if openErr != nil {
		l.Failed++
		return
	}
	l.Opened++
	if l.Longest == nil {
		l.Longest = map[Stall]time.Duration{}
	}
	l.Longest[kind] = max(l.Longest[kind], d)
	switch got.(type) {
	case *market.QuoteMsg:
		l.Quotes++
	case *market.RefusalMsg:
		l.Refusals++
	}
}

// Flooder is a bare libp2p host, connected to one provider, that opens
// job streams at it and misbehaves on each.
type Flooder struct {
	Host   host.Host
	target peer.ID
	guard  time.Duration
}

// NewFlooder starts a host connected to target, closed when the test
// ends. Each stream it opens gives up after guard: the provider's own
// deadlines must end it first.
func NewFlooder(t testing.TB, target peer.AddrInfo, guard time.Duration) *Flooder {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Connect(ctx, target); err != nil {
		t.Fatal(err)
	}
	return &Flooder{Host: h, target: target.ID, guard: guard}
}

// Stream opens one job stream and misbehaves as kind says, then reads
// until the provider answers, closes or resets it. It returns how long
// the stream lived and the first message the provider sent.
func (f *Flooder) Stream(ctx context.Context, kind Stall) (time.Duration, market.Message, error) {
	s, err := f.Host.NewStream(ctx, f.target, protocol.ID(market.ProtocolID))
	if err != nil {
		return 0, nil, err
	}
	start := time.Now()
	defer s.Reset()
	_ = s.SetDeadline(start.Add(f.guard))
	var first market.Message
	switch kind {
	case Idle:
	case Partial:
		_, _ = s.Write(binary.AppendUvarint(nil, 4096))
		_, _ = s.Write([]byte{1, 1, '{'})
	case Junk:
		b := make([]byte, 512)
		_, _ = rand.Read(b)
		_, _ = s.Write(b)
	case Oversized:
		_, _ = s.Write(binary.AppendUvarint(nil, 1<<30))
		_, _ = s.Write(make([]byte, 4096))
	case Propose:
		_ = market.WriteMessage(s, floodProposal())
		first, _ = market.ReadMessage(s)
		return time.Since(start), first, nil // and reset at once
	case ProposeAndHold:
		_ = market.WriteMessage(s, floodProposal())
	case BadProposal:
		_ = wire.WriteFrame(s, market.MaxFrame, wire.Envelope{Type: uint64(market.TypeProposal), Version: market.Version1,
			Payload: []byte(`{"job_id":"` + randomHex(16) + `","spec":{"image":{"digest":"sha256:00"},"resources":{"cpu_millis":0}},"requester":"0x00"}`)})
	case OutOfOrder:
		_ = market.WriteMessage(s, &market.Voucher{JobID: market.JobID(randomHex(16)), ChannelID: market.Hash{1}, Cumulative: 1 << 40})
	}
	for {
		m, err := market.ReadMessage(s)
		if err != nil {
			break
		}
		if first == nil {
			first = m
		}
	}
	return time.Since(start), first, nil
}

// Flood runs workers loops of streams, each stall of kinds in turn,
// until ctx ends, and records them in log.
func (f *Flooder) Flood(ctx context.Context, workers int, log *StreamLog, kinds ...Stall) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; ctx.Err() == nil; i++ {
				kind := kinds[i%len(kinds)]
				d, first, err := f.Stream(context.WithoutCancel(ctx), kind)
				log.add(kind, d, first, err)
			}
		})
	}
	wg.Wait()
}

// floodProposal is a valid-looking proposal for an image nobody serves.
func floodProposal() *market.Proposal {
	spec := market.JobSpec{Image: market.Image{Digest: market.Digest("sha256:" + randomHex(32)), Size: 1 << 20, Blob: true},
		Command:   []string{"sleep", "1h"},
		Resources: market.Resources{CPUs: 1000, Memory: 64 << 20}, MaxDuration: market.Duration(time.Minute), MaxPrice: 1000}
	var req market.Address
	_, _ = rand.Read(req[:])
	return &market.Proposal{JobID: market.JobID(randomHex(16)), Spec: spec, Requester: req}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
