//go:build linux

package main

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/settings"
)

// TestRelaySetting: the relay setting goes through the LocalAPI to a
// real daemon and its real p2p host at once: allowed, the host's relay
// service runs (waiting to be reached directly: on loopback AutoNAT never
// finds it public) and the status says so; on a metered connection it
// stays off and the status says why; switched off, the service stops.
// The saved setting is applied at the next start, and --relay (pinned)
// opts in for a run over a saved "off".
func TestRelaySetting(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var metered atomic.Bool // NetworkManager's answer, as the test sets it
	h, err := p2p.New(context.Background(), p2p.Config{LoopbackOnly: true, NoMDNS: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	relay := &ownerRelay{h: h, log: quiet, metered: func(context.Context) (bool, error) { return metered.Load(), nil }}
	start := func(pinned ...string) (*localapi.Client, func()) {
		d := node.NewDaemon(node.DaemonConfig{DataDir: dir, Display: ":none", Version: "test", Log: quiet,
			Settings: governor.Settings{AlwaysAvailable: true}, Pinned: pinned, Relay: relay})
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- d.Serve(ctx) }()
		stop := func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
		t.Cleanup(func() {
			select {
			case <-ctx.Done():
			default:
				stop()
			}
		})
		c := localapi.NewClient(dir)
		testenv.WaitFor(t, "the LocalAPI", 10*time.Second, func() bool { _, err := c.Status(context.Background()); return err == nil })
		return c, stop
	}
	ctx := context.Background()
	status := func(c *localapi.Client) localapi.Status {
		t.Helper()
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	put := func(c *localapi.Client, on bool) localapi.Settings {
		t.Helper()
		s, err := c.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Relay = on
		got, err := c.UpdateSettings(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	c, stop := start()
	if st := status(c); st.Relay != localapi.RelayOff || h.Relay().Allowed {
		t.Fatalf("a fresh node: relay %q, host %+v; want off", st.Relay, h.Relay())
	}
	if got := put(c, true); !got.Relay {
		t.Fatalf("PUT relay=true came back %+v", got)
	}
	if st := status(c); st.Relay != localapi.RelayWaiting || !h.Relay().Allowed {
		t.Fatalf("allowed: relay %q, host %+v; want the service on, waiting to be reached directly", st.Relay, h.Relay())
	} else if line := st.RelayLine(); line == "" {
		t.Fatal("no sentence for the relay's state")
	}
	if s, found, err := settings.Load(dir); err != nil || !found || !s.Relay {
		t.Fatalf("saved settings %+v (found %v, %v): want relay on", s, found, err)
	}

	metered.Store(true)
	put(c, true) // applied again: the connection is metered now
	if st := status(c); st.Relay != localapi.RelayMetered || h.Relay().Allowed {
		t.Fatalf("on a metered connection: relay %q, host %+v; want it off, saying why", st.Relay, h.Relay())
	}
	metered.Store(false)

	// The saved setting holds at the next start.
	stop()
	h.SetRelay(false)
	c, stop = start()
	if st := status(c); st.Relay != localapi.RelayWaiting || !h.Relay().Allowed {
		t.Fatalf("restarted with relay saved on: relay %q, host %+v", st.Relay, h.Relay())
	}
	if got := put(c, false); got.Relay {
		t.Fatalf("PUT relay=false came back %+v", got)
	}
	if st := status(c); st.Relay != localapi.RelayOff || h.Relay().Allowed {
		t.Fatalf("switched off: relay %q, host %+v", st.Relay, h.Relay())
	}

	// --relay opts in for a run over the saved "off".
	stop()
	c, _ = start(settings.FieldRelay)
	s, err := c.Settings(ctx)
	if err != nil || !s.Relay || len(s.CommandLine) != 1 || s.CommandLine[0] != settings.FieldRelay {
		t.Fatalf("with --relay: settings %+v (%v); want relay on, named as the command line's", s, err)
	}
	if !h.Relay().Allowed {
		t.Fatal("with --relay the host's relay service is off")
	}
}
