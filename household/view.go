package household

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/localapi"
)

// askTimeout bounds asking one machine for its state in a view.
const askTimeout = 3 * time.Second

// View is the household now: this machine, then each member as it
// answers (or why it does not), and the earnings today added up.
func (s *Service) View(ctx context.Context) localapi.Household {
	self := s.self()
	out := localapi.Household{Machines: []localapi.Machine{{Peer: s.cfg.Host.ID().String(), Name: self.Name, Via: localapi.ViaSelf,
		State: localapi.State(self.State), Sentence: self.Sentence, EarnedToday: localapi.Amount(self.EarnedToday), Reachable: true}}}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		rest []localapi.Machine
	)
	for id, via := range s.members.list() {
		wg.Go(func() {
			m := s.status(ctx, id, via)
			mu.Lock()
			rest = append(rest, m)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(rest, func(a, b localapi.Machine) int {
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		if a.Peer < b.Peer {
			return -1
		}
		return 1
	})
	out.Machines = append(out.Machines, rest...)
	for _, m := range out.Machines {
		out.EarnedToday += m.EarnedToday
	}
	return out
}

// status asks one member for its state.
func (s *Service) status(ctx context.Context, id peer.ID, via string) localapi.Machine {
	m := localapi.Machine{Peer: id.String(), Name: s.members.name(id), Via: via}
	if m.Name == "" {
		m.Name = "Machine …" + shortID(id)
	}
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	var a answer
	err := s.ask(ctx, id, &request{Type: typeStatus}, &a)
	if err == nil && a.Machine == nil {
		err = errors.New("answer: no machine")
	}
	if err != nil {
		m.Problem = "Not reachable: " + err.Error()
		if s.cfg.Host.Network().Connectedness(id) != network.Connected {
			m.Problem = "Not reachable: not on the LAN now (off, asleep or away)"
		}
		return m
	}
	s.members.setName(id, a.Machine.Name)
	return fromWire(id, via, a.Machine)
}

func fromWire(id peer.ID, via string, w *machine) localapi.Machine {
	return localapi.Machine{Peer: id.String(), Name: w.Name, Via: via, State: localapi.State(w.State), Sentence: w.Sentence,
		EarnedToday: localapi.Amount(w.EarnedToday), Reachable: true}
}

func shortID(id peer.ID) string {
	s := id.String()
	return s[max(len(s)-6, 0):]
}

// ErrNotMember is a command for a machine outside the household.
var ErrNotMember = errors.New("not a machine of this household: pair it first")

// Command pauses or resumes a member, signed with this machine's peer
// key, and returns the member as it is now.
func (s *Service) Command(ctx context.Context, c localapi.HouseholdCommand) (localapi.Machine, error) {
	id, err := peer.Decode(c.Peer)
	if err != nil {
		return localapi.Machine{}, fmt.Errorf("peer: %q is not a peer ID", clip(c.Peer))
	}
	via := s.members.via(id)
	if via == "" {
		return localapi.Machine{}, ErrNotMember
	}
	cmd := command{Op: c.Op}
	switch c.Op {
	case localapi.HouseholdPause:
		if c.For != "" {
			d, err := time.ParseDuration(c.For)
			if err != nil || d < time.Second || d > maxPauseSeconds*time.Second {
				return localapi.Machine{}, errors.New("for: want a duration between 1s and 720h, such as 1h or 30m")
			}
			cmd.ForSeconds = int64(d / time.Second)
		}
	case localapi.HouseholdResume:
		if c.For != "" {
			return localapi.Machine{}, errors.New("for: only a pause has one")
		}
	default:
		return localapi.Machine{}, fmt.Errorf("op: %q is not pause or resume", clip(c.Op))
	}
	if cmd.Nonce, err = newNonce(); err != nil {
		return localapi.Machine{}, err
	}
	cmd.TS = time.Now().UnixMilli()
	me := s.cfg.Host.ID()
	if err := signCommand(s.cfg.Host.Peerstore().PrivKey(me), me, id, &cmd); err != nil {
		return localapi.Machine{}, err
	}
	var a answer
	if err := s.ask(ctx, id, &request{Type: typeCommand, Command: &cmd}, &a); err != nil {
		return localapi.Machine{}, fmt.Errorf("%s: %w", s.members.name(id), err)
	}
	if a.Machine == nil {
		return localapi.Machine{}, errors.New("answer: no machine")
	}
	return fromWire(id, via, a.Machine), nil
}

// NewCode is a pairing code for the owner to type on another machine
// (CodeLifetime, CodeTries wrong tries); it voids any earlier one.
func (s *Service) NewCode() (localapi.PairCode, error) {
	return s.members.newCode(time.Now())
}

// Pair pairs this machine with the one on the LAN that shows code: the
// owner typed here what the other shows there, consenting on both.
func (s *Service) Pair(ctx context.Context, code string) (localapi.Machine, error) {
	code = normalCode(code)
	if len(code) != codeLen {
		return localapi.Machine{}, fmt.Errorf("code: want the %d characters the other machine shows, like ABCD-EFGH", codeLen)
	}
	for _, r := range code {
		if !containsRune(codeAlphabet, r) {
			return localapi.Machine{}, fmt.Errorf("code: %q is not a character of a pairing code", r)
		}
	}
	me := s.cfg.Host.ID()
	var tried int
	for _, p := range s.cfg.Host.Network().Peers() {
		if !s.lan(p) || s.members.via(p) == localapi.ViaPaired {
			continue
		}
		tried++
		var a answer
		err := s.ask(ctx, p, &request{Type: typePair, Pair: &pairMsg{MAC: pairMAC(code, me, p), Name: s.cfg.Name}}, &a)
		if err != nil || a.Machine == nil {
			continue
		}
		if err := s.members.pair(p, a.Machine.Name, time.Now()); err != nil {
			return localapi.Machine{}, err
		}
		s.log.Info("paired a machine of the household", "peer", p, "name", a.Machine.Name)
		return fromWire(p, localapi.ViaPaired, a.Machine), nil
	}
	return localapi.Machine{}, fmt.Errorf("none of the %d Spare machines on the LAN took the code: check it, and that the other machine still shows it (it works %s, for %d tries)",
		tried, CodeLifetime, CodeTries)
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}
