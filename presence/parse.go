package presence

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// These parsers read macOS command output. They live in a file without a
// build tag so their tests run on every system.

var hidIdleRe = regexp.MustCompile(`"HIDIdleTime"\s*=\s*(\d+)`)

// parseIoregIdle reads HIDIdleTime (nanoseconds) from
// `ioreg -c IOHIDSystem -d 4 -r -k HIDIdleTime`.
func parseIoregIdle(out string) (time.Duration, error) {
	m := hidIdleRe.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no HIDIdleTime in ioreg output")
	}
	ns, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("HIDIdleTime %q: %w", m[1], err)
	}
	return time.Duration(ns), nil
}

var pmsetPctRe = regexp.MustCompile(`(\d+)%;\s*([a-zA-Z ]+);`)

// parsePmset reads `pmset -g batt`:
//
//	Now drawing from 'Battery Power'
//	 -InternalBattery-0 (id=4653155)	63%; discharging; 4:12 remaining present: true
func parsePmset(out string) (Power, error) {
	p := Power{Charge: -1}
	switch {
	case strings.Contains(out, "'AC Power'"):
		p.Known = true
	case strings.Contains(out, "'Battery Power'"):
		p.Known, p.OnBattery = true, true
	case strings.Contains(out, "'UPS Power'"):
		p.Known, p.OnBattery = true, true
	default:
		return p, fmt.Errorf("pmset: no power source line")
	}
	if m := pmsetPctRe.FindStringSubmatch(out); m != nil {
		p.Charge, _ = strconv.Atoi(m[1])
	}
	return p, nil
}
