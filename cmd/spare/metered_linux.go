package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// NetworkManager's NMMetered values that mean a metered connection.
const (
	nmMeteredYes      = 1
	nmMeteredGuessYes = 3
)

// NetworkManager's names on the system bus.
const (
	nmName     = "org.freedesktop.NetworkManager"
	nmPath     = "/org/freedesktop/NetworkManager"
	propsIface = "org.freedesktop.DBus.Properties"
)

// systemBus opens a private connection to the system bus.
func systemBus(ctx context.Context) (*dbus.Conn, error) {
	c, err := dbus.SystemBusPrivate(dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("system bus: %w", err)
	}
	if err := c.Auth(nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("system bus: %w", err)
	}
	if err := c.Hello(); err != nil {
		c.Close()
		return nil, fmt.Errorf("system bus: %w", err)
	}
	return c, nil
}

// meteredConnection asks NetworkManager (system bus, property Metered of
// /org/freedesktop/NetworkManager) whether the primary connection is
// metered. No NetworkManager or no bus: not metered, with the error.
func meteredConnection(ctx context.Context) (bool, error) {
	c, err := systemBus(ctx)
	if err != nil {
		return false, err
	}
	defer c.Close()
	return readMetered(ctx, c)
}

func readMetered(ctx context.Context, c *dbus.Conn) (bool, error) {
	var v dbus.Variant
	err := c.Object(nmName, nmPath).CallWithContext(ctx, propsIface+".Get", 0, nmName, "Metered").Store(&v)
	if err != nil {
		return false, fmt.Errorf("NetworkManager's Metered property: %w", err)
	}
	m, ok := v.Value().(uint32)
	if !ok {
		return false, fmt.Errorf("NetworkManager's Metered property is %T, not a uint32", v.Value())
	}
	return m == nmMeteredYes || m == nmMeteredGuessYes, nil
}

// watchMetered calls changed with whether the connection is metered,
// once when it starts and then each time NetworkManager says its Metered
// property changed
// (PropertiesChanged), until ctx ends. The signal is only a cue: it is
// taken only from the bus name's owner, and the value is read back from
// NetworkManager, once for a burst of signals, so that another program
// on the bus can neither set it nor make this loop busy. No bus or no
// NetworkManager: an error at once.
func watchMetered(ctx context.Context, changed func(metered bool)) error {
	c, err := systemBus(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	signals := make(chan *dbus.Signal, 16)
	c.Signal(signals)
	defer c.RemoveSignal(signals)
	if err := c.AddMatchSignalContext(ctx, dbus.WithMatchSender(nmName), dbus.WithMatchObjectPath(nmPath),
		dbus.WithMatchInterface(propsIface), dbus.WithMatchMember("PropertiesChanged"), dbus.WithMatchArg(0, nmName)); err != nil {
		return fmt.Errorf("watching NetworkManager's Metered property: %w", err)
	}
	// A change between the last read and the match rule would be missed:
	// read once now that changes are heard.
	m, err := readMetered(ctx, c)
	if err != nil {
		return err
	}
	changed(m)
	for {
		select {
		case <-ctx.Done():
			return nil
		case s, ok := <-signals:
			if !ok {
				return errors.New("the system bus connection closed")
			}
			if !meteredSignal(s) {
				continue
			}
		}
		for drained := false; !drained; { // one read for a burst
			select {
			case <-signals:
			default:
				drained = true
			}
		}
		m, err = readMetered(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			continue // NetworkManager gone meanwhile: the next change says
		}
		changed(m)
	}
}

// meteredSignal says whether s is NetworkManager's PropertiesChanged
// naming Metered among the changed or invalidated properties.
func meteredSignal(s *dbus.Signal) bool {
	if s == nil || s.Path != nmPath || s.Name != propsIface+".PropertiesChanged" || len(s.Body) < 2 {
		return false
	}
	if iface, ok := s.Body[0].(string); !ok || iface != nmName {
		return false
	}
	if props, ok := s.Body[1].(map[string]dbus.Variant); ok {
		if _, ok := props["Metered"]; ok {
			return true
		}
	}
	if len(s.Body) > 2 {
		if inval, ok := s.Body[2].([]string); ok {
			for _, p := range inval {
				if p == "Metered" {
					return true
				}
			}
		}
	}
	return false
}
