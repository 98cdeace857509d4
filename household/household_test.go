package household

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/internal/testpeer"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet"
)

// earner is a market that takes no work and says what the machine
// earned today (the provider's part of the status).
type earner struct{ today string }

func (earner) Publish(context.Context, []string) error               { return nil }
func (earner) Withdraw(context.Context) error                        { return nil }
func (earner) Notify(context.Context, string, governor.Notice) error { return nil }
func (earner) SetTerms(*market.Price, []market.Kind)                 {}
func (earner) SetCostFloor(market.Price)                             {}
func (e earner) Describe(s *localapi.Status)                         { s.EarnedToday = e.today }
func (earner) DescribeJob(context.Context, string) (localapi.Job, bool) {
	return localapi.Job{}, false
}

// testMachine is one Spare machine of the test: a real daemon serving its
// LocalAPI, a real libp2p host on loopback, and its household service.
type testMachine struct {
	name   string
	dir    string
	host   *p2p.Host
	svc    *Service
	daemon *node.Daemon
	api    *localapi.Client
}

// startMachine runs a daemon (always available) with its household on a
// libp2p host of its own; key is its wallet key (nil: none).
func startMachine(t *testing.T, name string, key *wallet.Key, earned string) *testMachine {
	t.Helper()
	dir := t.TempDir()
	return startMachineOn(t, testpeer.Host(t, dir), dir, name, key, earned)
}

// startMachineOn is startMachine on a host of the caller's.
func startMachineOn(t *testing.T, h *p2p.Host, dir, name string, key *wallet.Key, earned string) *testMachine {
	t.Helper()
	m := &testMachine{name: name, dir: dir, host: h, api: localapi.NewClient(dir)}
	var err error
	m.svc, err = New(Config{Host: m.host.LibP2P(), DataDir: dir, Key: key, Name: name, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	m.daemon = node.NewDaemon(node.DaemonConfig{DataDir: dir, Settings: governor.Settings{AlwaysAvailable: true}, Display: ":none",
		Version: "test", Log: slog.New(slog.DiscardHandler), Market: earner{earned}, Household: m.svc})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := m.daemon.Serve(ctx); err != nil {
			t.Errorf("%s daemon: %v", name, err)
		}
	})
	wg.Go(func() {
		if err := m.svc.Serve(ctx, m.daemon); err != nil {
			t.Errorf("%s household: %v", name, err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	testenv.WaitFor(t, name+" available", 15*time.Second, func() bool {
		s, err := m.api.Status(context.Background())
		return err == nil && s.State == localapi.StateAvailable
	})
	return m
}

func connectAll(t *testing.T, ms ...*testMachine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, a := range ms {
		for _, b := range ms[i+1:] {
			if err := a.host.Connect(ctx, b.host.AddrInfo()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func state(t *testing.T, m *testMachine) localapi.State {
	t.Helper()
	s, err := m.api.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.State
}

// TestHousehold: three daemons on loopback. The study PC and the
// living-room PC share a payee key and find each other by themselves;
// the laptop, with a wallet of its own, is paired once with the code the
// study PC shows. The study PC's LocalAPI then shows all three with
// their state and earnings today and the household total, and a pause
// sent from it reaches the laptop's daemon and the living-room PC's;
// resume brings them back.
func TestHousehold(t *testing.T) {
	shared, err := wallet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	own, err := wallet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	study := startMachine(t, "Study PC", shared, "1.250000")
	living := startMachine(t, "Living room", shared, "0.500000")
	laptop := startMachine(t, "Laptop", own, "2.000000")
	connectAll(t, study, living, laptop)
	ctx := context.Background()

	testenv.WaitFor(t, "the same-payee machines to see each other", 15*time.Second, func() bool {
		return study.svc.members.via(living.host.ID()) == localapi.ViaPayee && living.svc.members.via(study.host.ID()) == localapi.ViaPayee
	})
	if via := study.svc.members.via(laptop.host.ID()); via != "" {
		t.Fatalf("the laptop (another payee, not paired) belongs as %q", via)
	}

	// Pairing: a code shown on the study PC, typed on the laptop.
	if _, err := laptop.api.Pair(ctx, "ABCD-EFGH"); err == nil {
		t.Fatal("a code no machine shows paired")
	}
	code, err := study.api.PairCode(ctx)
	if err != nil || len(code.Code) != codeLen+1 || time.Until(code.Expires) < CodeLifetime-time.Minute {
		t.Fatalf("pairing code %+v, %v", code, err)
	}
	got, err := laptop.api.Pair(ctx, strings.ToLower(code.Code))
	if err != nil || got.Name != "Study PC" || got.Peer != study.host.ID().String() {
		t.Fatalf("pairing from the laptop: %+v, %v", got, err)
	}
	if study.svc.members.via(laptop.host.ID()) != localapi.ViaPaired {
		t.Fatal("the study PC did not keep the laptop as paired")
	}
	if _, err := laptop.api.Pair(ctx, code.Code); err == nil {
		t.Fatal("a pairing code worked twice")
	}

	// One window's view of the household.
	h, err := study.api.Household(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]localapi.Amount{"Study PC": 1_250_000, "Living room": 500_000, "Laptop": 2_000_000}
	if len(h.Machines) != 3 || h.Machines[0].Via != localapi.ViaSelf || h.EarnedToday != 3_750_000 {
		t.Fatalf("household %+v; want the study PC first, three machines, 3.75 earned today", h)
	}
	for _, m := range h.Machines {
		if !m.Reachable || m.State != localapi.StateAvailable || !strings.HasPrefix(m.Sentence, "Available") || want[m.Name] != m.EarnedToday {
			t.Fatalf("machine %+v", m)
		}
	}

	// Pause the laptop (paired) and the living-room PC (same payee)
	// from the study PC's window.
	for _, m := range []*testMachine{laptop, living} {
		got, err := study.api.HouseholdCommand(ctx, localapi.HouseholdCommand{Peer: m.host.ID().String(), Op: localapi.HouseholdPause, For: "1h"})
		if err != nil || got.State != localapi.StatePaused {
			t.Fatalf("pausing the %s: %+v, %v", m.name, got, err)
		}
		if s := state(t, m); s != localapi.StatePaused {
			t.Fatalf("the %s's daemon says %s after the household's pause", m.name, s)
		}
	}
	if s := state(t, study); s != localapi.StateAvailable {
		t.Fatalf("the study PC itself is %s", s)
	}
	h, _ = study.api.Household(ctx)
	for _, m := range h.Machines[1:] {
		if m.State != localapi.StatePaused {
			t.Fatalf("the view after pausing: %+v", m)
		}
	}
	got, err = study.api.HouseholdCommand(ctx, localapi.HouseholdCommand{Peer: laptop.host.ID().String(), Op: localapi.HouseholdResume})
	if err != nil || got.State != localapi.StateAvailable || state(t, laptop) != localapi.StateAvailable {
		t.Fatalf("resuming the laptop: %+v, %v", got, err)
	}
	// The pairing holds after a restart: it is kept in DATA/household.json.
	again, err := loadMembers(study.dir)
	if err != nil || again.paired[laptop.host.ID()].Name != "Laptop" {
		t.Fatalf("after a restart: %+v, %v", again, err)
	}
}

// TestHostileHousehold plays machines that do not belong: an unpaired
// peer on the LAN cannot pause anything nor read a machine's state even
// with a correctly signed command; a command replayed, one signed for
// another machine, one from the past, and a hello proving another payee
// are refused; wrong codes void the pairing code.
func TestHostileHousehold(t *testing.T) {
	shared, _ := wallet.GenerateKey()
	victim := startMachine(t, "Victim", shared, "1.000000")
	friend := startMachine(t, "Friend", shared, "0.000000")
	strangerKey, _ := wallet.GenerateKey()
	stranger := startMachine(t, "Stranger", strangerKey, "0.000000")
	connectAll(t, victim, friend, stranger)
	ctx := context.Background()
	testenv.WaitFor(t, "the friend to belong", 15*time.Second, func() bool {
		return victim.svc.members.via(friend.host.ID()) == localapi.ViaPayee
	})
	vid := victim.host.ID()

	// The stranger's own service refuses to command a non-member; played
	// by hand, its signed command is refused by the victim.
	if _, err := stranger.svc.Command(ctx, localapi.HouseholdCommand{Peer: vid.String(), Op: localapi.HouseholdPause}); !errors.Is(err, ErrNotMember) {
		t.Fatalf("the stranger's service sent a command: %v", err)
	}
	sendAs := func(from *testMachine, to peer.ID, c command) error {
		var a answer
		return from.svc.ask(ctx, to, &request{Type: typeCommand, Command: &c}, &a)
	}
	signed := func(from *testMachine, to peer.ID, op string, at time.Time) command {
		n, _ := newNonce()
		c := command{Op: op, Nonce: n, TS: at.UnixMilli()}
		if err := signCommand(from.host.LibP2P().Peerstore().PrivKey(from.host.ID()), from.host.ID(), to, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := sendAs(stranger, vid, signed(stranger, vid, localapi.HouseholdPause, time.Now())); err == nil || !strings.Contains(err.Error(), "not of this household") {
		t.Fatalf("an unpaired peer's pause: %v", err)
	}
	var a answer
	if err := stranger.svc.ask(ctx, vid, &request{Type: typeStatus}, &a); err == nil {
		t.Fatalf("an unpaired peer read the state: %+v", a.Machine)
	}
	// A hello proving the stranger's payee makes no member.
	h, _ := signHello(strangerKey, stranger.host.ID(), vid, time.Now())
	if err := stranger.svc.ask(ctx, vid, &request{Type: typeHello, Hello: h}, &a); err == nil || !strings.Contains(err.Error(), "another payee") {
		t.Fatalf("a hello of another payee: %v", err)
	}
	// A hello of the shared payee relayed from another machine (signed
	// for the friend to the victim, sent by the stranger).
	h, _ = signHello(shared, friend.host.ID(), vid, time.Now())
	if err := stranger.svc.ask(ctx, vid, &request{Type: typeHello, Hello: h}, &a); err == nil || !strings.Contains(err.Error(), "hello.sig") {
		t.Fatalf("a relayed hello: %v", err)
	}
	if s := state(t, victim); s != localapi.StateAvailable || victim.svc.members.via(stranger.host.ID()) != "" {
		t.Fatalf("after the stranger: %s, belongs as %q", s, victim.svc.members.via(stranger.host.ID()))
	}

	// A member's command, replayed: refused the second time.
	c := signed(friend, vid, localapi.HouseholdPause, time.Now())
	if err := sendAs(friend, vid, c); err != nil || state(t, victim) != localapi.StatePaused {
		t.Fatalf("the friend's pause: %v", err)
	}
	if err := victim.daemon.Resume(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "resumed", 5*time.Second, func() bool { return state(t, victim) == localapi.StateAvailable })
	if err := sendAs(friend, vid, c); err == nil || !strings.Contains(err.Error(), "seen before") {
		t.Fatalf("a replayed pause: %v", err)
	}
	// Signed for another machine, from the past, or tampered with.
	if err := sendAs(friend, vid, signed(friend, stranger.host.ID(), localapi.HouseholdPause, time.Now())); err == nil || !strings.Contains(err.Error(), "command.sig") {
		t.Fatalf("a command signed for another machine: %v", err)
	}
	if err := sendAs(friend, vid, signed(friend, vid, localapi.HouseholdPause, time.Now().Add(-10*time.Minute))); err == nil || !strings.Contains(err.Error(), "command.ts") {
		t.Fatalf("a command from the past: %v", err)
	}
	tampered := signed(friend, vid, localapi.HouseholdResume, time.Now())
	tampered.Op, tampered.ForSeconds = localapi.HouseholdPause, 3600
	if err := sendAs(friend, vid, tampered); err == nil || !strings.Contains(err.Error(), "command.sig") {
		t.Fatalf("a tampered command: %v", err)
	}
	if s := state(t, victim); s != localapi.StateAvailable {
		t.Fatalf("the victim is %s after refused commands", s)
	}

	// Guessing the pairing code: CodeTries wrong guesses void it.
	code, err := victim.svc.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	for i := range CodeTries {
		guess := pairMAC("2222-222"+string(rune('2'+i)), stranger.host.ID(), vid)
		if err := stranger.svc.ask(ctx, vid, &request{Type: typePair, Pair: &pairMsg{MAC: guess, Name: "Stranger"}}, &a); err == nil {
			t.Fatal("a wrong code paired")
		}
	}
	if _, err := stranger.api.Pair(ctx, code.Code); err == nil || victim.svc.members.via(stranger.host.ID()) != "" {
		t.Fatalf("the right code after %d wrong ones paired: %v", CodeTries, err)
	}

	// Malformed requests are refused at the edge, naming the field.
	for _, tc := range []struct {
		req  request
		want string
	}{
		{request{Type: "reboot"}, "type:"},
		{request{Type: typeCommand, Command: &command{Op: "format", Nonce: strings.Repeat("a", 32), TS: 1, Sig: "00"}}, "command.op"},
		{request{Type: typeCommand, Command: &command{Op: "pause", ForSeconds: -1, Nonce: strings.Repeat("a", 32), TS: 1, Sig: "00"}}, "command.for_seconds"},
		{request{Type: typeCommand, Command: &command{Op: "pause", Nonce: "short", TS: 1, Sig: "00"}}, "command.nonce"},
		{request{Type: typeHello, Hello: &hello{Payee: "0x12", TS: 1, Sig: "00"}}, "hello.payee"},
		{request{Type: typePair, Pair: &pairMsg{MAC: strings.Repeat("0", 64), Name: "evil\x1b[31m"}}, "pair.name"},
		{request{Type: typeStatus, Pair: &pairMsg{}}, "status: carries nothing"},
	} {
		if err := stranger.svc.ask(ctx, vid, &tc.req, &a); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("request %+v: %v; want refused naming %q", tc.req, err, tc.want)
		}
	}
}
