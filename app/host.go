package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"
)

// What a Windows PC needs before Spare can share its GPU: WSL2 (jobs run
// in a Linux distribution of Spare's own), virtualisation enabled in the
// firmware (WSL2 is a virtual machine), and an NVIDIA driver recent
// enough to carry CUDA into WSL2. The app reads these facts through
// hostProbe (host_windows.go) and HostProblems turns them into the
// sentences it shows; both are plain functions tested on every OS.

// HostFacts is what the app learned of the PC it runs on.
type HostFacts struct {
	// WSL: `wsl.exe --status` answered, so WSL is installed.
	WSL bool
	// VirtualisationOff: the firmware reports virtualisation disabled
	// and no hypervisor runs, or WSL said it cannot start its virtual
	// machine for that reason.
	VirtualisationOff bool
	// NVIDIADriver: an NVIDIA display driver is installed (nvapi64.dll).
	NVIDIADriver bool
	// WSLGPU: the driver brings CUDA into WSL2 (System32\lxss\lib\libcuda.so).
	WSLGPU bool
}

// HostProblem is one thing a person must fix: what is wrong, and how.
type HostProblem struct {
	Problem string
	Fix     string
}

// The sentences the app shows; tests and the smoke script look for them.
const (
	NoVirtualisation   = "Virtualisation is turned off in this PC's firmware, and Spare's jobs run in a small virtual machine (WSL2)."
	FixVirtualisation  = "Restart, open the BIOS/UEFI setup (usually Del or F2 while the PC starts), turn on Intel VT-x or AMD SVM, save, and open Spare again."
	NoWSL              = "WSL2 is not installed, and Spare runs its jobs inside it."
	FixWSL             = "Open PowerShell as administrator, run: wsl --install --no-distribution, restart Windows, and open Spare again."
	NoNVIDIADriver     = "No NVIDIA driver is installed, so Spare has no GPU to share."
	FixNVIDIADriver    = "Install the current NVIDIA Game Ready or Studio driver from nvidia.com/drivers, then open Spare again."
	OldNVIDIADriver    = "The NVIDIA driver is too old to lend the GPU to WSL2."
	FixOldNVIDIADriver = "Install the current driver from nvidia.com/drivers (it brings CUDA into WSL2), then open Spare again."
)

// HostProblems lists what stops Spare on a PC with these facts, most
// basic first; none means the PC can run Spare.
func HostProblems(f HostFacts) []HostProblem {
	var ps []HostProblem
	if f.VirtualisationOff {
		ps = append(ps, HostProblem{NoVirtualisation, FixVirtualisation})
	}
	if !f.WSL {
		ps = append(ps, HostProblem{NoWSL, FixWSL})
	}
	switch {
	case !f.NVIDIADriver:
		ps = append(ps, HostProblem{NoNVIDIADriver, FixNVIDIADriver})
	case !f.WSLGPU:
		ps = append(ps, HostProblem{OldNVIDIADriver, FixOldNVIDIADriver})
	}
	return ps
}

// hostProbe is what the app reads of a Windows PC (host_windows.go).
type hostProbe interface {
	// Exists reports whether a file exists.
	Exists(path string) bool
	// Run runs argv and returns its output and exit error.
	Run(ctx context.Context, argv ...string) ([]byte, error)
	// Virtualisation reports whether the firmware enables hardware
	// virtualisation and whether a hypervisor already runs (Hyper-V
	// hides the firmware flag from Windows once it runs).
	Virtualisation() (firmware, hypervisor bool)
}

// wslVMError is in what wsl.exe prints when it cannot start its virtual
// machine because virtualisation is off (HCS_E_HYPERV_NOT_INSTALLED).
const wslVMError = "0x80370102"

// probeTimeout bounds each command the probe runs.
const probeTimeout = 20 * time.Second

// readHost gathers the facts; system32 is Windows' System32 directory.
func readHost(ctx context.Context, p hostProbe, system32 string) HostFacts {
	var f HostFacts
	firmware, hypervisor := p.Virtualisation()
	f.VirtualisationOff = !firmware && !hypervisor
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	out, err := p.Run(ctx, filepath.Join(system32, "wsl.exe"), "--status")
	text := wslText(out)
	f.WSL = err == nil
	var exit interface{ ExitCode() int }
	if errors.As(err, &exit) && strings.Contains(text, wslVMError) {
		f.WSL, f.VirtualisationOff = true, true
	}
	f.NVIDIADriver = p.Exists(filepath.Join(system32, "nvapi64.dll"))
	f.WSLGPU = p.Exists(filepath.Join(system32, "lxss", "lib", "libcuda.so"))
	return f
}

// wslText reads wsl.exe's output, which is UTF-16LE on most Windows
// versions (and UTF-8 when WSL_UTF8=1 or on the Store's WSL).
func wslText(b []byte) string {
	if len(b) >= 2 && b[1] == 0 {
		r := make([]byte, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			if b[i+1] == 0 {
				r = append(r, b[i])
			}
		}
		return string(r)
	}
	return string(b)
}

// hasDistribution reports whether `wsl.exe --list --quiet` output names
// the distribution.
func hasDistribution(listOut []byte, name string) bool {
	for _, l := range strings.Split(wslText(listOut), "\n") {
		if strings.EqualFold(strings.TrimSpace(l), name) {
			return true
		}
	}
	return false
}

// importArgv is the wsl.exe command that imports Spare's distribution
// from the installed image into dir (WSL2, its disk in dir).
func importArgv(wsl, name, dir, image string) []string {
	return []string{wsl, "--import", name, dir, image, "--version", "2"}
}

// ImportDoing is what the window says while the distribution is imported.
const ImportDoing = "Setting up Spare's Linux environment"

// distributionMissing reports whether wsl.exe does not list the
// distribution (`wsl --list` fails when there is none at all).
func distributionMissing(ctx context.Context, p hostProbe, wsl, name string) bool {
	out, err := p.Run(ctx, wsl, "--list", "--quiet")
	return err != nil || !hasDistribution(out, name)
}

// importDistribution imports the distribution from image into dir. Its
// error is a HostProblem: what went wrong and the fix.
func importDistribution(ctx context.Context, p hostProbe, wsl, name, dir, image string) error {
	if !p.Exists(image) {
		return HostProblem{Problem: "Spare's Linux environment (" + image + ") is missing from its install folder.",
			Fix: "Reinstall Spare with spare-setup.exe, then open Spare again."}
	}
	out, err := p.Run(ctx, importArgv(wsl, name, dir, image)...)
	if err != nil {
		return importProblem(strings.TrimSpace(wslText(out)), err, dir)
	}
	return nil
}

// importProblem says what a failed `wsl --import` means for the owner,
// from the error code WSL prints, with the fix.
func importProblem(said string, err error, dir string) HostProblem {
	has := func(codes ...string) bool {
		for _, c := range codes {
			if strings.Contains(strings.ToLower(said), strings.ToLower(c)) {
				return true
			}
		}
		return false
	}
	switch {
	case has(wslVMError, "HCS_E_HYPERV_NOT_INSTALLED"):
		return HostProblem{NoVirtualisation, FixVirtualisation}
	case has("0x80370114", "Virtual Machine Platform"):
		return HostProblem{"The Virtual Machine Platform that WSL2 needs is turned off.",
			"Open PowerShell as administrator, run: wsl --install --no-distribution, restart Windows, and open Spare again."}
	case has("0x8007019e", "WSL_E_WSL_OPTIONAL_COMPONENT_REQUIRED"):
		return HostProblem{NoWSL, FixWSL}
	case has("0x800701bc", "kernel component"):
		return HostProblem{"WSL2 needs an update of its Linux kernel before it can run Spare.",
			"Open PowerShell as administrator, run: wsl --update, then choose Try again."}
	case has("0x80070070", "not enough space", "ERROR_DISK_FULL"):
		return HostProblem{"There is not enough free disk space to set up Spare's Linux environment (about 1 GB, on the drive of " + dir + ").",
			"Free some space on that drive, then choose Try again."}
	case has("0x800700b7", "ERROR_ALREADY_EXISTS", "already exists"):
		return HostProblem{"An earlier Spare's Linux disk is still in " + dir + ".",
			"Move that folder elsewhere (it may hold an earlier wallet: keep it until you have checked), then choose Try again."}
	}
	if said == "" {
		said = err.Error()
	}
	return HostProblem{"Spare could not set up its Linux environment; wsl --import said: " + said, FixSetup}
}
