//go:build linux

package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/p2p"
)

// standInNM is NetworkManager as far as the relay asks it: the name
// org.freedesktop.NetworkManager on a real dbus-daemon, with a Metered
// property that emits PropertiesChanged when it is set.
func standInNM(t *testing.T, bus string, metered uint32) *prop.Properties {
	t.Helper()
	c, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	props, err := prop.Export(c, nmPath, prop.Map{nmName: {"Metered": {Value: metered, Emit: prop.EmitTrue}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.RequestName(nmName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v, %v", nmName, r, err)
	}
	return props
}

// TestRelayMeteredLive: the relay follows NetworkManager's Metered
// property while the node runs, read from a stand-in NetworkManager on a
// real dbus-daemon (the system bus for this test): the connection
// becoming metered stops the real host's relay service and the status
// says why; no longer metered, it starts again; an owner who did not
// allow relaying is never relayed for by a change of connection; a
// PropertiesChanged forged by another program on the bus changes
// nothing. (Row N12 of docs/threat-model.md.)
func TestRelayMeteredLive(t *testing.T) {
	bus := testenv.SessionBus(t)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus)
	nm := standInNM(t, bus, 2) // NM_METERED_NO
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := p2p.New(context.Background(), p2p.Config{LoopbackOnly: true, NoMDNS: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })

	// The real watcher; seen hears each state it handed the relay, after
	// the relay acted on it.
	seen := make(chan bool, 16)
	r := &ownerRelay{h: h, metered: meteredConnection, log: quiet,
		watch: func(ctx context.Context, changed func(bool)) error {
			return watchMetered(ctx, func(m bool) { changed(m); seen <- m })
		}}
	r.SetRelay(true)
	if !h.Relay().Allowed {
		t.Fatalf("allowed on an unmetered connection: host %+v, want the service on", h.Relay())
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); r.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	next := func(want bool) {
		t.Helper()
		select {
		case m := <-seen:
			if m != want {
				t.Fatalf("the watcher said metered=%v, want %v", m, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the watcher said nothing within 10 s (want metered=%v)", want)
		}
	}
	relay := func() localapi.RelayState {
		var s localapi.Status
		r.DescribeRelay(&s)
		return s.Relay
	}
	next(false) // the read at the watch's start

	nm.SetMust(nmName, "Metered", uint32(nmMeteredYes))
	next(true)
	if h.Relay().Allowed || relay() != localapi.RelayMetered {
		t.Fatalf("the connection became metered: host %+v, status %q; want the service off, saying why", h.Relay(), relay())
	}
	nm.SetMust(nmName, "Metered", uint32(4)) // NM_METERED_GUESS_NO
	next(false)
	if !h.Relay().Allowed || relay() != localapi.RelayWaiting {
		t.Fatalf("no longer metered: host %+v, status %q; want the service on again", h.Relay(), relay())
	}

	// Another program forges NetworkManager's signal: nothing changes,
	// and the next real change is the first the relay hears.
	forger, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	for range 50 {
		if err := forger.Emit(nmPath, propsIface+".PropertiesChanged", nmName,
			map[string]dbus.Variant{"Metered": dbus.MakeVariant(uint32(nmMeteredYes))}, []string{}); err != nil {
			t.Fatal(err)
		}
	}
	nm.SetMust(nmName, "Metered", uint32(nmMeteredGuessYes))
	next(true)
	if h.Relay().Allowed {
		t.Fatalf("metered (a guess): host %+v, want the service off", h.Relay())
	}
	nm.SetMust(nmName, "Metered", uint32(2))
	next(false)

	// The owner says no: a connection that stops being metered does not
	// start the relay.
	r.SetRelay(false)
	nm.SetMust(nmName, "Metered", uint32(nmMeteredYes))
	next(true)
	nm.SetMust(nmName, "Metered", uint32(2))
	next(false)
	if h.Relay().Allowed || relay() != localapi.RelayOff {
		t.Fatalf("not allowed: host %+v, status %q; want it off", h.Relay(), relay())
	}
}
