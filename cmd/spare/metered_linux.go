package main

import (
	"context"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// NetworkManager's NMMetered values that mean a metered connection.
const (
	nmMeteredYes      = 1
	nmMeteredGuessYes = 3
)

// meteredConnection asks NetworkManager (system bus, property Metered of
// /org/freedesktop/NetworkManager) whether the primary connection is
// metered. No NetworkManager or no bus: not metered, with the error.
func meteredConnection(ctx context.Context) (bool, error) {
	c, err := dbus.SystemBusPrivate(dbus.WithContext(ctx))
	if err != nil {
		return false, fmt.Errorf("system bus: %w", err)
	}
	defer c.Close()
	if err := c.Auth(nil); err != nil {
		return false, fmt.Errorf("system bus: %w", err)
	}
	if err := c.Hello(); err != nil {
		return false, fmt.Errorf("system bus: %w", err)
	}
	v, err := c.Object("org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager").
		GetProperty("org.freedesktop.NetworkManager.Metered")
	if err != nil {
		return false, fmt.Errorf("NetworkManager's Metered property: %w", err)
	}
	m, ok := v.Value().(uint32)
	if !ok {
		return false, fmt.Errorf("NetworkManager's Metered property is %T, not a uint32", v.Value())
	}
	return m == nmMeteredYes || m == nmMeteredGuessYes, nil
}
