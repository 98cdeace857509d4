//go:build linux

package app_test

import (
	"context"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/autostart"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/household"
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

// otherMachine runs another household machine's daemon (no sandbox: it
// takes no work here) and household service on a host of its own.
func otherMachine(t *testing.T, name string, key *wallet.Key, earned string) (*p2p.Host, *localapi.Client) {
	t.Helper()
	dir := t.TempDir()
	h := testpeer.Host(t, dir)
	quiet := slog.New(slog.DiscardHandler)
	svc, err := household.New(household.Config{Host: h.LibP2P(), DataDir: dir, Key: key, Name: name, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d := node.NewDaemon(node.DaemonConfig{DataDir: dir, Settings: governor.Settings{AlwaysAvailable: true}, Display: ":none",
		Version: "test", Log: quiet, Market: earner{earned}, Household: svc, Telemetry: recordedGPU(t)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.Serve(ctx) })
	wg.Go(func() { _ = svc.Serve(ctx, d) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	c := localapi.NewClient(dir)
	testenv.WaitFor(t, name+" available", 15*time.Second, func() bool {
		s, err := c.Status(context.Background())
		return err == nil && s.State == localapi.StateAvailable
	})
	return h, c
}

// TestHouseholdScreen: the study PC's window shows the household: the
// living-room PC (same payee, found by itself) and the laptop, paired
// with the code the window shows; each one's state and earnings today
// and the total. Pause on the laptop's row reaches the laptop's daemon.
func TestHouseholdScreen(t *testing.T) {
	shared, err := wallet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	own, err := wallet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	host := testpeer.Host(t, t.TempDir())
	svc, err := household.New(household.Config{Host: host.LibP2P(), DataDir: t.TempDir(), Key: shared, Name: "Study PC", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Market: earner{"1.250000"}, Household: svc})
	hctx, hcancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(hctx, d.Daemon) }()
	t.Cleanup(func() { hcancel(); <-served })

	living, livingAPI := otherMachine(t, "Living room", shared, "0.500000")
	laptop, laptopAPI := otherMachine(t, "Laptop", own, "2.000000")
	ctx := context.Background()
	for _, h := range []*p2p.Host{living, laptop} {
		if err := host.Connect(ctx, h.AddrInfo()); err != nil {
			t.Fatal(err)
		}
	}
	c := localapi.NewClient(d.dir)
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}, DetailsEvery: time.Second,
		Login: autostart.XDG{ConfigHome: t.TempDir(), ConfigDirs: []string{t.TempDir()}}})
	waitSentence(t, a, "Available")
	a.Inspect(func() { a.UI().SelectTab("Household") })
	waitMarkup(t, a, "Living room")

	// Pair the laptop with a code the study PC shows.
	pc, err := c.PairCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := laptopAPI.Pair(ctx, pc.Code); err != nil || m.Name != "Study PC" {
		t.Fatalf("pairing the laptop with %q: %+v, %v", pc.Code, m, err)
	}
	for _, text := range []string{"Study PC (this PC)", "Laptop", "Living room", "Your machines earned today: 3.750000 USDC", "Earned today: 2.000000 USDC"} {
		waitMarkup(t, a, text)
	}
	shootThemes(t, a, "household")

	// The laptop's row comes first of the others (by name): pause it.
	a.Inspect(func() { test.Tap(button(t, a, "Pause for 1 hour")) })
	testenv.WaitFor(t, "the laptop paused", 10*time.Second, func() bool {
		s, err := laptopAPI.Status(ctx)
		return err == nil && s.State == localapi.StatePaused
	})
	if s, _ := livingAPI.Status(ctx); s.State != localapi.StateAvailable {
		t.Fatalf("the living-room PC is %s; only the laptop was paused", s.State)
	}
	waitMarkup(t, a, "Paused until")

	// The window shows a code to pair one more machine.
	a.Inspect(func() { test.Tap(button(t, a, "Show a pairing code")) })
	codeRE := regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`)
	testenv.WaitFor(t, "a pairing code shown", 10*time.Second, func() bool {
		found := false
		a.Inspect(func() {
			for _, o := range visible(a.UI().Window().Canvas().Content(), nil) {
				if l, ok := o.(*widget.Label); ok && codeRE.MatchString(l.Text) {
					found = true
				}
			}
		})
		return found
	})
}

// TestNoLossSettingsScreen: with "never work at a loss" on at 0.32 EUR a
// kWh and a token worth 0.92 EUR, plus 10 %, the Settings page shows the
// floor the daemon computed from the recorded RTX 4070's 200 W limit:
// 22 units a GPU-second, 0.079200 USDC a GPU-hour.
func TestNoLossSettingsScreen(t *testing.T) {
	c, _ := realDaemon(t)
	ctx := context.Background()
	var s localapi.Settings
	testenv.WaitFor(t, "the daemon's settings", 10*time.Second, func() bool {
		var err error
		s, err = c.Settings(ctx)
		return err == nil
	})
	s.ElectricityPrice, s.Currency, s.TokenRate, s.NoLoss, s.LossMargin = "0.32", "EUR", "0.92", true, 10
	testenv.WaitFor(t, "the GPU's power limit read", 10*time.Second, func() bool {
		got, err := c.UpdateSettings(ctx, s)
		return err == nil && got.CostFloor != nil && got.CostFloor.GPUMilliWatts == 200_000
	})
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true},
		Login: autostart.XDG{ConfigHome: t.TempDir(), ConfigDirs: []string{t.TempDir()}}})
	waitSentence(t, a, "Available")
	a.Inspect(func() { a.UI().SelectTab("Settings") })
	waitMarkup(t, a, "Never at a loss: jobs must pay at least 0.079200 USDC per GPU-hour (200 W)")
	var checked bool
	a.Inspect(func() {
		checked = shown(t, a, func(w *widget.Check) bool { return w.Text == "Never work at a loss" }, "the no-loss box").Checked
	})
	if !checked {
		t.Fatal("Never work at a loss is not ticked")
	}
}
