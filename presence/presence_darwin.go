package presence

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// darwinSensor reads HIDIdleTime through ioreg, which needs no cgo. Each
// poll starts a process, so on macOS the fast poll costs more CPU than on
// Linux; an IOKit binding (cgo) would remove that.
type darwinSensor struct{}

var _ sensor = darwinSensor{}

func newSensor(context.Context, Options) (sensor, error) { return darwinSensor{}, nil }

func (darwinSensor) idle(ctx context.Context) (time.Duration, bool, error) {
	out, err := exec.CommandContext(ctx, "ioreg", "-c", "IOHIDSystem", "-d", "4", "-r", "-k", "HIDIdleTime").Output()
	if err != nil {
		return 0, false, fmt.Errorf("ioreg: %w", err)
	}
	d, err := parseIoregIdle(string(out))
	return d, err == nil, err
}

func (darwinSensor) session(context.Context) (sessionInfo, error) { return sessionInfo{}, nil }
func (darwinSensor) name() string                                 { return "iokit-ioreg" }
func (darwinSensor) close() error                                 { return nil }

func readPower(string) (Power, error) {
	out, err := exec.Command("pmset", "-g", "batt").Output()
	if err != nil {
		return Power{Charge: -1}, fmt.Errorf("pmset: %w", err)
	}
	return parsePmset(string(out))
}

// ReadPower reads the power source now.
func ReadPower() (Power, error) { return readPower("") }
