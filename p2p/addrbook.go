package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/sparegpu/spare/internal/atomicfile"
)

// BookFile is the address book's path below the data directory: the Spare
// peers this host has met, dialled at the next start so that it does not
// depend on its bootstrap peers (or the public network) to find them.
//
// Format (JSON): {"version":1,"peers":[{"id":"12D3…","addrs":["/ip4/…"],
// "seen":UNIX,"sessions":N}]} (sessions: in how many of this host's
// sessions the peer was met, clamped to 0..maxBookSessions). Read at start, at most MaxBookFile bytes; a file that is
// not valid JSON of this shape (or too big) is ignored with a WARN and
// replaced at the next save; an entry with a bad peer ID or no valid
// address is skipped; at most MaxBookPeers entries and MaxBookAddrs
// addresses each are kept. Written with internal/atomicfile, mode 0600.
const BookFile = "p2p/peers.json"

// Address book limits.
const (
	// MaxBookPeers is how many peers the book keeps. Past it a newcomer
	// (met in fewer than BookTrustedSessions sessions) seen longest ago
	// goes, and only when there is none a trusted peer seen longest ago.
	MaxBookPeers = 64
	// BookTrustedSessions is in how many sessions (host starts) a peer
	// must have been met to be trusted in the book: newcomers never evict
	// it, so a sybil flood in one session cannot push out the peers met
	// over several.
	BookTrustedSessions = 2
	// MaxBookNewcomers bounds the newcomers met in one session: past it
	// the one of them seen longest ago goes, whatever room is left.
	MaxBookNewcomers = MaxBookPeers / 2
	// maxBookSessions bounds a file's session count.
	maxBookSessions = 1 << 20
	// MaxBookAddrs is how many addresses are kept per peer.
	MaxBookAddrs = 8
	// MaxBookFile bounds what is read of the book at start.
	MaxBookFile = 256 << 10
	// BookSaveInterval is how often a changed book is written.
	BookSaveInterval = 30 * time.Second
	// bookDialTimeout bounds the dials to the book's peers at start.
	bookDialTimeout = 10 * time.Second
	// maxBookAddrLen bounds one address's text.
	maxBookAddrLen = 256
)

type bookFile struct {
	Version int         `json:"version"`
	Peers   []bookEntry `json:"peers"`
}

type bookEntry struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
	Seen  int64    `json:"seen"`
	// Sessions: in how many sessions the peer was met (absent in books
	// written before it: 0).
	Sessions int `json:"sessions,omitempty"`
}

// addrBook is the host's address book (see BookFile); a nil path keeps it
// in memory only.
type addrBook struct {
	path string
	self peer.ID

	mu    sync.Mutex
	peers map[peer.ID]bookPeer
	dirty bool
}

type bookPeer struct {
	addrs    []multiaddr.Multiaddr
	seen     time.Time
	sessions int  // sessions the peer was met in, this one included once met
	met      bool // met in this session (counted in sessions)
}

func (e bookPeer) trusted() bool { return e.sessions >= BookTrustedSessions }

// loadBook reads the book of dataDir. It never fails the start: a bad file
// is reported by the returned error (for a WARN) and an empty book used.
func loadBook(dataDir string, self peer.ID) (*addrBook, error) {
	b := &addrBook{self: self, peers: map[peer.ID]bookPeer{}}
	if dataDir == "" {
		return b, nil
	}
	b.path = filepath.Join(dataDir, BookFile)
	f, err := os.Open(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return b, fmt.Errorf("address book %s: %w", b.path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBookFile+1))
	if err != nil {
		return b, fmt.Errorf("address book %s: %w", b.path, err)
	}
	if len(data) > MaxBookFile {
		return b, fmt.Errorf("address book %s: over %d bytes; ignored (it is rewritten)", b.path, MaxBookFile)
	}
	var bf bookFile
	if err := json.Unmarshal(data, &bf); err != nil || bf.Version != 1 {
		return b, fmt.Errorf("address book %s: not a version 1 book (%v); ignored (it is rewritten)", b.path, err)
	}
	for _, e := range bf.Peers {
		id, err := peer.Decode(e.ID)
		if err != nil || id == self {
			continue
		}
		var addrs []multiaddr.Multiaddr
		for _, s := range e.Addrs {
			if len(s) > maxBookAddrLen {
				continue
			}
			a, err := multiaddr.NewMultiaddr(s)
			if err != nil {
				continue
			}
			if _, last := multiaddr.SplitLast(a); last != nil && last.Protocol().Code == multiaddr.P_P2P {
				continue // an address with its own /p2p/ part: taken as foreign
			}
			addrs = append(addrs, a)
		}
		if len(addrs) == 0 {
			continue
		}
		b.putLocked(id, bookPeer{addrs: addrs, seen: time.Unix(e.Seen, 0), sessions: min(max(e.Sessions, 0), maxBookSessions)})
	}
	return b, nil
}

// put records p at addrs, seen at t.
func (b *addrBook) put(p peer.ID, addrs []multiaddr.Multiaddr, t time.Time) {
	if p == b.self || len(addrs) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.peers[p]
	if !e.met {
		e.met, e.sessions = true, min(e.sessions+1, maxBookSessions)
	}
	e.addrs, e.seen = addrs, t
	b.putLocked(p, e)
	b.dirty = true
}

// putLocked records e for p, first evicting (see MaxBookPeers and
// MaxBookNewcomers) when p is new.
func (b *addrBook) putLocked(p peer.ID, e bookPeer) {
	e.addrs = e.addrs[:min(len(e.addrs), MaxBookAddrs)]
	if _, ok := b.peers[p]; ok {
		b.peers[p] = e
		return
	}
	fresh, newcomers := 0, 0 // newcomers met in this session; all newcomers
	for _, o := range b.peers {
		if !o.trusted() {
			newcomers++
			if o.met {
				fresh++
			}
		}
	}
	isFresh := func(o bookPeer) bool { return o.met && !o.trusted() }
	isNewcomer := func(o bookPeer) bool { return !o.trusted() }
	switch {
	case isFresh(e) && fresh >= MaxBookNewcomers:
		b.evictLocked(isFresh)
	case len(b.peers) >= MaxBookPeers && newcomers > 0:
		b.evictLocked(isNewcomer)
	case len(b.peers) >= MaxBookPeers:
		b.evictLocked(func(bookPeer) bool { return true })
	}
	b.peers[p] = e
}

// evictLocked drops the peer seen longest ago among those of which.
func (b *addrBook) evictLocked(which func(bookPeer) bool) {
	var oldest peer.ID
	var at time.Time
	for id, e := range b.peers {
		if which(e) && (oldest == "" || e.seen.Before(at)) {
			oldest, at = id, e.seen
		}
	}
	delete(b.peers, oldest)
}

// list is the book, most recently seen first.
func (b *addrBook) list() []peer.AddrInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	type seenInfo struct {
		pi   peer.AddrInfo
		seen time.Time
	}
	all := make([]seenInfo, 0, len(b.peers))
	for id, e := range b.peers {
		all = append(all, seenInfo{peer.AddrInfo{ID: id, Addrs: slices.Clone(e.addrs)}, e.seen})
	}
	slices.SortFunc(all, func(x, y seenInfo) int { return y.seen.Compare(x.seen) })
	out := make([]peer.AddrInfo, len(all))
	for i, s := range all {
		out[i] = s.pi
	}
	return out
}

// save writes the book if it changed since the last save.
func (b *addrBook) save() error {
	b.mu.Lock()
	if b.path == "" || !b.dirty {
		b.mu.Unlock()
		return nil
	}
	bf := bookFile{Version: 1, Peers: []bookEntry{}}
	for id, e := range b.peers {
		ent := bookEntry{ID: id.String(), Seen: e.seen.Unix(), Sessions: e.sessions}
		for _, a := range e.addrs {
			ent.Addrs = append(ent.Addrs, a.String())
		}
		bf.Peers = append(bf.Peers, ent)
	}
	b.dirty = false
	b.mu.Unlock()
	slices.SortFunc(bf.Peers, func(x, y bookEntry) int { return strings.Compare(x.ID, y.ID) })
	data, err := json.Marshal(bf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(b.path), 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(b.path, data, 0o600); err != nil {
		return fmt.Errorf("saving the address book: %w", err)
	}
	return nil
}

// isSparePeer says whether protos (from identify) are a Spare node's: every
// one speaks a /spare/ protocol (the identity check of dup.go at least).
func isSparePeer(protos []string) bool {
	for _, p := range protos {
		if strings.HasPrefix(p, "/spare/") {
			return true
		}
	}
	return false
}

// keepBook records every identified Spare peer in the book, and saves a
// changed book every BookSaveInterval and when ctx ends.
func (n *Host) keepBook(ctx context.Context, sub event.Subscription) {
	defer sub.Close()
	t := time.NewTicker(BookSaveInterval)
	defer t.Stop()
	save := func() {
		if err := n.book.save(); err != nil {
			n.log.Warn("address book not saved", "err", err)
		}
	}
	defer save()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			save()
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			ev, ok := e.(event.EvtPeerIdentificationCompleted)
			if !ok || ev.Conn == nil {
				continue
			}
			if keep, why := n.poolVerdict(ev.Peer, ev.Protocols); !keep {
				n.log.Debug("peer cut off", "peer", ev.Peer, "why", why)
				_ = n.h.Network().ClosePeer(ev.Peer)
				continue
			}
			protos := make([]string, len(ev.Protocols))
			for i, p := range ev.Protocols {
				protos[i] = string(p)
			}
			if !isSparePeer(protos) {
				continue
			}
			if ev.Conn.Stat().Limited {
				continue // relayed: its address is the relay's
			}
			var addrs []multiaddr.Multiaddr
			if ev.Conn.Stat().Direction == network.DirOutbound {
				addrs = append(addrs, ev.Conn.RemoteMultiaddr())
			}
			for _, a := range ev.ListenAddrs {
				if !slices.ContainsFunc(addrs, a.Equal) {
					addrs = append(addrs, a)
				}
			}
			n.book.put(ev.Peer, addrs, time.Now())
		}
	}
}

// dialBook dials the book's peers (at most bookDialTimeout); failures are
// logged at DEBUG: a peer met last week may well be gone.
func (n *Host) dialBook(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, bookDialTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, pi := range n.book.list() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.h.Connect(ctx, pi); err != nil {
				n.log.Debug("address book peer unreachable", "peer", pi.ID, "err", err)
			}
		}()
	}
	wg.Wait()
}

// BookPeers are the peers in this host's address book, most recently seen
// first.
func (n *Host) BookPeers() []peer.AddrInfo { return n.book.list() }
