//go:build windows

package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/sparegpu/spare/app/wslconfig"
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

// DistributionSetup imports Spare's WSL distribution, named name, on
// first run (Config.Setup): from the image the installer put beside
// spare.exe (distro\spare-wsl.tar) into %LOCALAPPDATA%\Spare\wsl. The
// app shows its progress; it takes a minute or two, once.
func DistributionSetup(name string) *Setup {
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		sys = filepath.Join(os.Getenv("SystemRoot"), "System32")
	}
	wsl := filepath.Join(sys, "wsl.exe")
	return &Setup{
		Needed: func(ctx context.Context) (bool, error) {
			return distributionMissing(ctx, windowsHost{}, wsl, name), nil
		},
		Doing: ImportDoing,
		Run: func(ctx context.Context) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			image := filepath.Join(filepath.Dir(exe), "distro", "spare-wsl.tar")
			dir := filepath.Join(os.Getenv("LOCALAPPDATA"), "Spare", "wsl")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return HostProblem{Problem: "Spare could not make the folder for its Linux environment: " + err.Error(),
					Fix: "Check that your user may write to " + filepath.Dir(dir) + ", then choose Try again."}
			}
			return importDistribution(ctx, windowsHost{}, wsl, name, dir, image)
		},
	}
}

// memoryStatusEx is MEMORYSTATUSEX (sysinfoapi.h).
type memoryStatusEx struct {
	Length               uint32
	MemoryLoad           uint32
	TotalPhys            uint64
	AvailPhys            uint64
	TotalPageFile        uint64
	AvailPageFile        uint64
	TotalVirtual         uint64
	AvailVirtual         uint64
	AvailExtendedVirtual uint64
}

var globalMemoryStatusEx = windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalMemoryStatusEx")

// UserWSLConfig is this user's .wslconfig and this PC's memory and
// logical processors, for the window that asks to set WSL 2's limits.
func UserWSLConfig() (*WSLConfig, error) {
	home, err := windows.KnownFolderPath(windows.FOLDERID_Profile, 0)
	if err != nil || home == "" {
		home = os.Getenv("USERPROFILE")
	}
	if home == "" {
		return nil, errors.New("no user folder (USERPROFILE is empty)")
	}
	m := memoryStatusEx{}
	m.Length = uint32(unsafe.Sizeof(m))
	if ok, _, err := globalMemoryStatusEx.Call(uintptr(unsafe.Pointer(&m))); ok == 0 {
		return nil, fmt.Errorf("reading the PC's memory (GlobalMemoryStatusEx): %w", err)
	}
	return &WSLConfig{Path: filepath.Join(home, ".wslconfig"),
		Host: wslconfig.Host{MemoryMB: int64(m.TotalPhys >> 20), Processors: runtime.NumCPU()}}, nil
}
