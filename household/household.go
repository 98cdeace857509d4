package household

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
)

// Local is the machine's own daemon, as the household needs it.
type Local interface {
	Status() localapi.Status
	// PauseFor pauses sharing for d (0: until resumed); Resume ends a pause.
	PauseFor(d time.Duration) error
	Resume() error
}

// Config wires a Service. Host and DataDir are required.
type Config struct {
	Host    host.Host
	DataDir string
	// Key is the wallet's key: machines that prove the same one belong.
	// Nil: only paired machines do.
	Key *wallet.Key
	// Name is this machine's name for the others; empty: the host name.
	Name string
	// LAN says whether a connection's remote address is on the LAN; nil:
	// private, link-local and loopback addresses are.
	LAN func(multiaddr.Multiaddr) bool
	Log *slog.Logger
}

// maxStreams bounds the household streams served at once.
const maxStreams = 16

// Service is this machine's side of the household protocol.
type Service struct {
	cfg     Config
	log     *slog.Logger
	members *members
	slots   chan struct{}

	mu    sync.Mutex
	local Local
	wg    sync.WaitGroup
}

// New reads the paired machines from DATA/household.json.
func New(cfg Config) (*Service, error) {
	if cfg.Host == nil || cfg.DataDir == "" {
		return nil, errors.New("household: Host and DataDir are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	if checkName("name", cfg.Name) != nil {
		cfg.Name = "Spare " + cfg.Host.ID().String()[len(cfg.Host.ID().String())-6:]
	}
	if cfg.LAN == nil {
		cfg.LAN = onLAN
	}
	m, err := loadMembers(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, log: cfg.Log.With("component", "household"), members: m, slots: make(chan struct{}, maxStreams)}, nil
}

// onLAN: private (RFC 1918, ULA), link-local and loopback addresses.
func onLAN(a multiaddr.Multiaddr) bool {
	return manet.IsPrivateAddr(a) || manet.IsIPLoopback(a)
}

// Serve answers the household protocol for local and greets the machines
// on the LAN as they connect, until ctx ends.
func (s *Service) Serve(ctx context.Context, local Local) error {
	s.mu.Lock()
	s.local = local
	s.mu.Unlock()
	h := s.cfg.Host
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return fmt.Errorf("household: %w", err)
	}
	defer sub.Close()
	h.SetStreamHandler(protocol.ID(ProtocolID), s.handle)
	defer h.RemoveStreamHandler(protocol.ID(ProtocolID))
	defer s.wg.Wait()
	for _, p := range h.Network().Peers() {
		s.greet(ctx, p)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-sub.Out():
			if !ok {
				return nil
			}
			if ev := e.(event.EvtPeerConnectednessChanged); ev.Connectedness == network.Connected {
				s.greet(ctx, ev.Peer)
			}
		}
	}
}

// greet sends a hello to a machine on the LAN: one that proves this
// machine's payee key back belongs for this run.
func (s *Service) greet(ctx context.Context, p peer.ID) {
	if s.cfg.Key == nil || !s.lan(p) || s.members.via(p) == localapi.ViaPayee {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.hello(ctx, p); err != nil {
			s.log.Debug("no household hello", "peer", p, "err", err)
		}
	}()
}

func (s *Service) hello(ctx context.Context, p peer.ID) error {
	me := s.cfg.Host.ID()
	h, err := signHello(s.cfg.Key, me, p, time.Now())
	if err != nil {
		return err
	}
	var a answer
	if err := s.ask(ctx, p, &request{Type: typeHello, Hello: h}, &a); err != nil {
		return err
	}
	if a.Hello == nil {
		return errors.New("answer: no hello")
	}
	payee, err := checkHello(a.Hello, p, me, time.Now())
	if err != nil {
		return err
	}
	if payee != s.cfg.Key.Address() {
		return fmt.Errorf("its payee %s is not this machine's", payee.Hex())
	}
	s.members.addPayee(p)
	s.log.Info("a machine of the household (same payee) joined", "peer", p)
	return nil
}

// lan says whether some connection to p is on the LAN.
func (s *Service) lan(p peer.ID) bool {
	for _, c := range s.cfg.Host.Network().ConnsToPeer(p) {
		if s.cfg.LAN(c.RemoteMultiaddr()) {
			return true
		}
	}
	return false
}

// ask sends req to p and reads the answer (a refusal is an error).
func (s *Service) ask(ctx context.Context, p peer.ID, req *request, a *answer) error {
	ctx, cancel := context.WithTimeout(ctx, StreamTimeout)
	defer cancel()
	st, err := s.cfg.Host.NewStream(network.WithAllowLimitedConn(ctx, ProtocolID), p, protocol.ID(ProtocolID))
	if err != nil {
		return err
	}
	defer st.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(d)
	}
	if err := writeJSON(st, req); err != nil {
		_ = st.Reset()
		return err
	}
	if err := readJSON(st, a); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if a.Error != "" {
		return fmt.Errorf("refused: %s", clip128(a.Error))
	}
	if a.Machine != nil {
		if err := a.Machine.validate(); err != nil {
			return fmt.Errorf("answer: %w", err)
		}
	}
	return nil
}

func clip128(s string) string {
	if len(s) > 128 || !printable(s) {
		return "(an unreadable reason)"
	}
	return s
}

// handle answers one household request.
func (s *Service) handle(st network.Stream) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		_ = st.Reset()
		return
	}
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(StreamTimeout))
	from := st.Conn().RemotePeer()
	if !s.cfg.LAN(st.Conn().RemoteMultiaddr()) {
		_ = writeJSON(st, answer{Error: "the household answers machines on the LAN only"})
		return
	}
	var req request
	if err := readJSON(st, &req); err != nil {
		_ = writeJSON(st, answer{Error: err.Error()})
		return
	}
	if err := req.validate(); err != nil {
		_ = writeJSON(st, answer{Error: err.Error()})
		return
	}
	a := s.answer(from, &req)
	if a.Error != "" {
		s.log.Info("refused a household request", "peer", from, "type", req.Type, "why", a.Error)
	}
	_ = writeJSON(st, a)
}

func (s *Service) answer(from peer.ID, req *request) answer {
	me, now := s.cfg.Host.ID(), time.Now()
	switch req.Type {
	case typeHello:
		if s.cfg.Key == nil {
			return answer{Error: "this machine has no payee"}
		}
		payee, err := checkHello(req.Hello, from, me, now)
		if err != nil {
			return answer{Error: err.Error()}
		}
		if payee != s.cfg.Key.Address() {
			return answer{Error: "not of this household: another payee"}
		}
		h, err := signHello(s.cfg.Key, me, from, now)
		if err != nil {
			return answer{Error: "cannot prove the payee now"}
		}
		s.members.addPayee(from)
		return answer{Hello: h}
	case typePair:
		if err := s.members.tryCode(req.Pair.MAC, from, me, now); err != nil {
			return answer{Error: err.Error()}
		}
		if err := s.members.pair(from, req.Pair.Name, now); err != nil {
			return answer{Error: err.Error()}
		}
		s.log.Info("paired a machine of the household", "peer", from, "name", req.Pair.Name)
		return answer{Machine: s.self()}
	}
	if s.members.via(from) == "" {
		return answer{Error: "not of this household: pair the machines first"}
	}
	if req.Type == typeCommand {
		if err := checkCommand(req.Command, from, me, now); err != nil {
			return answer{Error: err.Error()}
		}
		if !s.members.fresh(from, req.Command.Nonce, now) {
			return answer{Error: "command.nonce: seen before (a replay): send a new command"}
		}
		if err := s.apply(req.Command); err != nil {
			return answer{Error: err.Error()}
		}
		s.log.Info("a household machine commanded this one", "peer", from, "op", req.Command.Op)
	}
	return answer{Machine: s.self()}
}

func (s *Service) apply(c *command) error {
	s.mu.Lock()
	l := s.local
	s.mu.Unlock()
	if l == nil {
		return errors.New("starting up")
	}
	if c.Op == localapi.HouseholdResume {
		return l.Resume()
	}
	return l.PauseFor(time.Duration(c.ForSeconds) * time.Second)
}

// self is this machine as the others see it.
func (s *Service) self() *machine {
	s.mu.Lock()
	l := s.local
	s.mu.Unlock()
	m := &machine{Name: s.cfg.Name, State: "Off"}
	if l == nil {
		return m
	}
	st := l.Status()
	m.State, m.Sentence = string(st.State), st.Sentence
	if len(m.Sentence) > maxSentence || !printable(m.Sentence) {
		m.Sentence = ""
	}
	if a, err := wallet.ParseAmount(st.EarnedToday); err == nil && a > 0 {
		m.EarnedToday = int64(a)
	}
	return m
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
