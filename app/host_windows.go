//go:build windows

package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/windows"
)

// windowsHost reads the facts from Windows itself.
type windowsHost struct{}

var _ hostProbe = windowsHost{}

func (windowsHost) Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (windowsHost) Run(ctx context.Context, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// No console window flashes up for the probe.
	cmd.SysProcAttr = &syscall.SysProcAttr{HideWindow: true, CreationFlags: windows.CREATE_NO_WINDOW}
	return cmd.CombinedOutput()
}

func (windowsHost) Virtualisation() (firmware, hypervisor bool) {
	return windows.IsProcessorFeaturePresent(windows.PF_VIRT_FIRMWARE_ENABLED), hypervisorPresent()
}

// CheckHost reads this PC and returns what stops Spare on it.
func CheckHost(ctx context.Context) []HostProblem {
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		sys = filepath.Join(os.Getenv("SystemRoot"), "System32")
	}
	return HostProblems(readHost(ctx, windowsHost{}, sys))
}

// EnsureDistribution imports Spare's WSL distribution, named name, from
// the image the installer put beside spare.exe (distro\spare-wsl.tar)
// into %LOCALAPPDATA%\Spare\wsl, unless it exists. Import takes a while
// (the image is unpacked into a new virtual disk): run it off the UI.
func EnsureDistribution(ctx context.Context, name string) error {
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		sys = filepath.Join(os.Getenv("SystemRoot"), "System32")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	image := filepath.Join(filepath.Dir(exe), "distro", "spare-wsl.tar")
	dir := filepath.Join(os.Getenv("LOCALAPPDATA"), "Spare", "wsl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return ensureDistribution(ctx, windowsHost{}, filepath.Join(sys, "wsl.exe"), name, dir, image)
}
