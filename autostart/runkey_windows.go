package autostart

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// System is this system's mechanism: the Run registry key.
func System() Mechanism { return RunKey{} }

const (
	runKeyPath = `Software\Microsoft\Windows\CurrentVersion\Run`
	// approvedPath is where Task Manager's Startup tab records an entry
	// the user switched off (first byte of the value odd: disabled).
	approvedPath = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
	runValue     = "Spare"
)

// RunKey is a value under HKEY_CURRENT_USER's Run key, which Windows runs
// at the user's logon.
type RunKey struct {
	Path, ApprovedPath string // default runKeyPath and approvedPath; tests use their own
}

func (r RunKey) paths() (string, string) {
	run, approved := r.Path, r.ApprovedPath
	if run == "" {
		run = runKeyPath
	}
	if approved == "" {
		approved = approvedPath
	}
	return run, approved
}

// Enabled reports whether the Run value is there and Task Manager has
// not switched it off.
func (r RunKey) Enabled() (bool, error) {
	run, approved := r.paths()
	k, err := registry.OpenKey(registry.CURRENT_USER, run, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start at login: %w", err)
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(runValue); errors.Is(err, registry.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("start at login: %w", err)
	}
	a, err := registry.OpenKey(registry.CURRENT_USER, approved, registry.QUERY_VALUE)
	if err != nil {
		return true, nil // no record: enabled
	}
	defer a.Close()
	v, _, err := a.GetBinaryValue(runValue)
	if err != nil || len(v) == 0 {
		return true, nil
	}
	return v[0]&1 == 0, nil
}

// Set writes or deletes the Run value. Turning it on also clears a
// Task Manager "disabled" record, so the owner's latest choice wins.
func (r RunKey) Set(on bool, exe string) error {
	run, approved := r.paths()
	if !on {
		k, err := registry.OpenKey(registry.CURRENT_USER, run, registry.SET_VALUE)
		if errors.Is(err, registry.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("start at login: %w", err)
		}
		defer k.Close()
		if err := k.DeleteValue(runValue); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("start at login: %w", err)
		}
		return nil
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, run, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	defer k.Close()
	if err := k.SetStringValue(runValue, `"`+exe+`"`); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if a, err := registry.OpenKey(registry.CURRENT_USER, approved, registry.SET_VALUE); err == nil {
		defer a.Close()
		if err := a.DeleteValue(runValue); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("start at login: %w", err)
		}
	}
	return nil
}
