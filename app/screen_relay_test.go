//go:build linux

package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
)

// hostRelay is a real p2p host's volunteer relay as the daemon drives it
// (node.Relay; cmd/spare's adapter adds the metered-connection check).
type hostRelay struct{ h *p2p.Host }

func (r hostRelay) SetRelay(allowed bool) { r.h.SetRelay(allowed) }

func (r hostRelay) DescribeRelay(s *localapi.Status) {
	switch st := r.h.Relay(); {
	case !st.Allowed:
		s.Relay = localapi.RelayOff
	case st.Serving:
		s.Relay, s.RelayNodes, s.RelayCircuits = localapi.RelayServing, st.Reservations, st.Circuits
	default:
		s.Relay = localapi.RelayWaiting
	}
}

// TestRelayScreen: the Settings page's relay box goes through the real
// LocalAPI to a real daemon, which switches its p2p host's relay service
// at once; the Status page says whether the node relays for others.
func TestRelayScreen(t *testing.T) {
	h, err := p2p.New(context.Background(), p2p.Config{LoopbackOnly: true, NoMDNS: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Relay: hostRelay{h}})
	c := localapi.NewClient(d.dir)
	a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}})
	waitSentence(t, a, "Available")
	waitMarkup(t, a, "Not relaying for other nodes (off in Settings).")

	a.Inspect(func() { a.UI().SelectTab("Settings") })
	testenv.WaitFor(t, "the daemon's settings in the form", 10*time.Second, func() bool {
		var on bool
		a.Inspect(func() { on = !button(t, a, "Save").Disabled() })
		return on
	})
	waitMarkup(t, a, "uses some upload bandwidth; off on metered connections")
	for _, on := range []bool{true, false, true} {
		a.Inspect(func() {
			check(t, a, "Relay for Spare nodes behind home routers").SetChecked(on)
			test.Tap(button(t, a, "Save"))
		})
		testenv.WaitFor(t, "the host's relay service switched", 10*time.Second, func() bool { return h.Relay().Allowed == on })
		s, err := c.Settings(context.Background())
		if err != nil || s.Relay != on {
			t.Fatalf("daemon's settings after saving relay=%v: %+v (%v)", on, s, err)
		}
	}

	// Allowed, on loopback: waiting to be reached directly.
	a.Inspect(func() { a.UI().SelectTab("Status") })
	waitMarkup(t, a, "Relaying allowed: it starts once other nodes can reach this one directly.")
	shootThemes(t, a, "status_relay")
}
