//go:build !(linux || freebsd || openbsd || netbsd || dragonfly || darwin || windows)

package autostart

// System is this system's mechanism: none Spare knows.
func System() Mechanism { return unsupported{} }

type unsupported struct{}

func (unsupported) Enabled() (bool, error) { return false, nil }

func (unsupported) Set(on bool, _ string) error {
	if on {
		return ErrUnsupported
	}
	return nil
}
