//go:build !linux

package presence

import (
	"context"
	"errors"
)

// ErrNoLogind means logind cannot be asked who sits at the machine; it is
// Linux's, and always the answer elsewhere.
var ErrNoLogind = errors.New("logind is not running")

// Seats asks logind who holds each seat's active session; there is no
// logind here.
type Seats struct{}

// ActiveUsers fails with ErrNoLogind.
func (*Seats) ActiveUsers(context.Context) ([]int, error) { return nil, ErrNoLogind }

// Close does nothing.
func (*Seats) Close() error { return nil }
