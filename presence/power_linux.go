package presence

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultPowerRoot is where Linux lists power supplies.
const DefaultPowerRoot = "/sys/class/power_supply"

// readPower reads AC and battery state from sysfs under root (empty:
// DefaultPowerRoot). A desktop without batteries reports Known with
// OnBattery false and Charge -1.
func readPower(root string) (Power, error) {
	if root == "" {
		root = DefaultPowerRoot
	}
	p := Power{Charge: -1}
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		p.Known = true
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("reading power supplies: %w", err)
	}
	var (
		acSeen, acOnline, discharging bool
		now, full                     int
		batteries                     int
	)
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		typ := readSys(dir, "type")
		switch typ {
		case "Mains", "USB", "USB_C", "USB_PD":
			if typ != "Mains" && readSys(dir, "online") == "" {
				continue
			}
			acSeen = true
			if readSys(dir, "online") == "1" {
				acOnline = true
			}
		case "Battery":
			if readSys(dir, "scope") == "Device" { // a mouse or headset battery
				continue
			}
			batteries++
			if readSys(dir, "status") == "Discharging" {
				discharging = true
			}
			if c, err := strconv.Atoi(readSys(dir, "capacity")); err == nil {
				now += c
				full += 100
			}
		}
	}
	p.Known = true
	if full > 0 {
		p.Charge = now * 100 / full
	}
	p.OnBattery = batteries > 0 && ((acSeen && !acOnline) || (!acSeen && discharging))
	return p, nil
}

// ReadPower reads the power source now.
func ReadPower() (Power, error) { return readPower("") }

func readSys(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
