//go:build !linux && !windows && !darwin

package presence

import (
	"context"
	"fmt"
	"runtime"
)

func newSensor(context.Context, Options) (sensor, error) {
	return nil, fmt.Errorf("%w: no presence backend for %s", ErrUnsupported, runtime.GOOS)
}

func readPower(string) (Power, error) { return Power{Charge: -1}, nil }

// ReadPower reports an unknown power source on this system.
func ReadPower() (Power, error) { return readPower("") }
