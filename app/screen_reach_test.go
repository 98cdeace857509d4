//go:build linux

package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"github.com/multiformats/go-multiaddr"

	"github.com/sparegpu/spare/app"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
)

// hostMarket describes a real p2p host in the status as the provider does
// (provider.Describe: addresses, network, the host's reachability
// verdict); verdict, when set, stands in for the host's own.
type hostMarket struct {
	earner
	h       *p2p.Host
	verdict p2p.Reach
}

func (m hostMarket) Describe(s *localapi.Status) {
	s.PeerID, s.Addrs = m.h.ID().String(), m.h.ListenAddrs()
	s.Network, s.Pool, s.SparePeers = m.h.Network(), m.h.Pool(), m.h.SparePeers()
	r := m.h.Reachability()
	if m.verdict != "" {
		r = p2p.Reachability{Reach: m.verdict}
	}
	s.Reach, s.ReachHint = string(r.Reach), r.Hint
}

func reachHost(t *testing.T, cfg p2p.Config) *p2p.Host {
	t.Helper()
	cfg.LoopbackOnly, cfg.NoMDNS, cfg.DataDir, cfg.Logger = true, true, t.TempDir(), slog.New(slog.DiscardHandler)
	h, err := p2p.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// TestReachScreen: the Status page says, in a sentence, how other nodes
// reach this one, read through the real LocalAPI from a real daemon
// describing a real p2p host: directly (a host that takes itself to be
// public), still checking (on loopback AutoNAT never decides), or only
// through a relay, with what the owner can do and the port to forward.
func TestReachScreen(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		h := reachHost(t, p2p.Config{BootstrapNode: true})
		d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Market: hostMarket{earner: earner{"0.000000"}, h: h}})
		a := startApp(t, app.Config{DataDir: goldenDir(t), Client: localapi.NewClient(d.dir), Session: &app.SessionInfo{Bus: true, TrayHost: true}})
		waitSentence(t, a, "Available")
		waitMarkup(t, a, "Reachable directly: requesters connect straight to this computer.")
		waitMarkup(t, a, "Network: public (IOUs in the embedded ledger), 0 Spare peers connected")
		shootThemes(t, a, "status_reach")
	})
	// A named network (DATA/networks.json, --network studio): the page
	// and GET /v1/status name it, its pool and how money settles.
	t.Run("named pool network", func(t *testing.T) {
		h := reachHost(t, p2p.Config{Pool: "studio-rdv", Network: "studio"})
		d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Market: hostMarket{earner: earner{"0.000000"}, h: h}})
		c := localapi.NewClient(d.dir)
		a := startApp(t, app.Config{DataDir: goldenDir(t), Client: c, Session: &app.SessionInfo{Bus: true, TrayHost: true}})
		waitSentence(t, a, "Available")
		st, err := c.Status(context.Background())
		if err != nil || st.Network != "studio" || st.Pool != "studio-rdv" || st.Settles != localapi.SettlesLedger {
			t.Errorf("GET /v1/status: network %q, pool %q, settles %q (%v); want studio, studio-rdv, ledger", st.Network, st.Pool, st.Settles, err)
		}
		waitMarkup(t, a, "Network: studio (private pool studio-rdv; IOUs in the embedded ledger), 0 Spare peers connected")
	})
	t.Run("unknown", func(t *testing.T) {
		h := reachHost(t, p2p.Config{})
		d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Market: hostMarket{earner: earner{"0.000000"}, h: h}})
		a := startApp(t, app.Config{DataDir: goldenDir(t), Client: localapi.NewClient(d.dir), Session: &app.SessionInfo{Bus: true, TrayHost: true}})
		waitSentence(t, a, "Available")
		waitMarkup(t, a, "Still checking with other nodes how they reach this computer.")
	})
	// Behind a symmetric NAT the host's verdict is relay-only (p2p's
	// TestNATRelay and reachabilityOf/punchVerdict's cases): the page
	// warns that jobs are refused and names this host's own port, one
	// number for TCP and QUIC (p2p.PortsFile keeps it across restarts).
	t.Run("relay-only", func(t *testing.T) {
		h := reachHost(t, p2p.Config{StablePorts: true}) // as spare node runs it
		port, udp := "", ""
		for _, a := range h.Addrs() {
			if p, err := a.ValueForProtocol(multiaddr.P_TCP); err == nil && port == "" {
				port = p
			}
			if _, err := a.ValueForProtocol(multiaddr.P_QUIC_V1); err == nil && udp == "" {
				udp, _ = a.ValueForProtocol(multiaddr.P_UDP)
			}
		}
		if port == "" || udp != port {
			t.Fatalf("the host listens on TCP port %q and UDP port %q: want one number (%v)", port, udp, h.Addrs())
		}
		d := startDaemon(t, node.DaemonConfig{Settings: governor.Settings{AlwaysAvailable: true}, Market: hostMarket{earner: earner{"0.000000"}, h: h, verdict: p2p.ReachRelayOnly}})
		a := startApp(t, app.Config{DataDir: goldenDir(t), Client: localapi.NewClient(d.dir), Session: &app.SessionInfo{Bus: true, TrayHost: true}})
		waitSentence(t, a, "Available")
		line := "Only reachable through a relay: jobs are refused. To take jobs, turn on UPnP in your router, or forward TCP and UDP port " + port + " to this computer."
		waitMarkup(t, a, line)
		var m string
		a.Inspect(func() { m = test.RenderToMarkup(a.UI().Window().Canvas()) })
		if !warned(m, line) {
			t.Errorf("the relay-only line is not a warning:\n%s", m)
		}
	})
}

// warned says the markup shows line in the warning colour.
func warned(markup, line string) bool {
	for _, l := range strings.Split(markup, "\n") {
		if strings.Contains(l, ">"+line+"<") {
			return strings.Contains(l, `color="warning"`)
		}
	}
	return false
}
