//go:build !linux

package main

import (
	"context"
	"errors"
)

// meteredConnection is not known off Linux: the owner's setting alone
// decides.
func meteredConnection(context.Context) (bool, error) {
	return false, errors.New("metered connections are detected on Linux (NetworkManager) only")
}

// watchMetered has nothing to watch off Linux.
func watchMetered(context.Context, func(bool)) error {
	return errors.New("metered connections are detected on Linux (NetworkManager) only")
}
