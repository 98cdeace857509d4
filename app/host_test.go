package app

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestHostProblems(t *testing.T) {
	ready := HostFacts{WSL: true, NVIDIADriver: true, WSLGPU: true}
	for _, tc := range []struct {
		name  string
		facts HostFacts
		want  []string // the problems, in order
	}{
		{"ready", ready, nil},
		{"bare PC", HostFacts{VirtualisationOff: true}, []string{NoVirtualisation, NoWSL, NoNVIDIADriver}},
		{"no WSL2", HostFacts{NVIDIADriver: true, WSLGPU: true}, []string{NoWSL}},
		{"virtualisation off", HostFacts{WSL: true, VirtualisationOff: true, NVIDIADriver: true, WSLGPU: true}, []string{NoVirtualisation}},
		{"no driver", HostFacts{WSL: true}, []string{NoNVIDIADriver}},
		{"old driver", HostFacts{WSL: true, NVIDIADriver: true}, []string{OldNVIDIADriver}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range HostProblems(tc.facts) {
				got = append(got, p.Problem)
				if p.Fix == "" {
					t.Errorf("%q comes without a fix", p.Problem)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
}

// windowsPC stands in for a Windows PC (which cannot run here): its
// files, wsl.exe's answer and the CPU's flags.
type windowsPC struct {
	files              []string
	wslOut             []byte
	wslErr             error
	firmware, hypervis bool
	ran                [][]string
}

func (w *windowsPC) Exists(p string) bool { return slices.Contains(w.files, p) }
func (w *windowsPC) Run(_ context.Context, argv ...string) ([]byte, error) {
	w.ran = append(w.ran, argv)
	return w.wslOut, w.wslErr
}
func (w *windowsPC) Virtualisation() (bool, bool) { return w.firmware, w.hypervis }

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestReadHost(t *testing.T) {
	sys := `C:\Windows\System32`
	driver := []string{filepath.Join(sys, "nvapi64.dll"), filepath.Join(sys, "lxss", "lib", "libcuda.so")}
	exitErr := exec.Command("false").Run() // a real *exec.ExitError
	if exitErr == nil {
		t.Fatal("false exited 0")
	}
	for _, tc := range []struct {
		name string
		pc   windowsPC
		want HostFacts
	}{
		{"ready on Hyper-V", windowsPC{files: driver, hypervis: true},
			HostFacts{WSL: true, NVIDIADriver: true, WSLGPU: true}},
		{"ready, firmware flag only", windowsPC{files: driver, firmware: true},
			HostFacts{WSL: true, NVIDIADriver: true, WSLGPU: true}},
		{"no wsl.exe", windowsPC{wslErr: errors.New("exec: file does not exist"), firmware: true},
			HostFacts{}},
		{"WSL refuses its VM", windowsPC{files: driver, hypervis: true, wslErr: exitErr,
			wslOut: utf16le("Please enable the Virtual Machine Platform Windows feature and ensure virtualization is enabled in the BIOS.\r\nError code: Wsl/Service/CreateInstance/CreateVm/HCS/0x80370102\r\n")},
			HostFacts{WSL: true, VirtualisationOff: true, NVIDIADriver: true, WSLGPU: true}},
		{"WSL fails otherwise", windowsPC{files: driver[:1], firmware: true, wslErr: exitErr, wslOut: []byte("The Windows Subsystem for Linux is not installed.")},
			HostFacts{NVIDIADriver: true}},
		{"firmware off, no hypervisor", windowsPC{},
			HostFacts{WSL: true, VirtualisationOff: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readHost(context.Background(), &tc.pc, sys)
			if got != tc.want {
				t.Errorf("facts %+v, want %+v", got, tc.want)
			}
			if want := []string{filepath.Join(sys, "wsl.exe"), "--status"}; len(tc.pc.ran) != 1 || !slices.Equal(tc.pc.ran[0], want) {
				t.Errorf("ran %q, want once %q", tc.pc.ran, want)
			}
		})
	}
}

func TestImportDistribution(t *testing.T) {
	wsl, image, dir := `C:\Windows\System32\wsl.exe`, `C:\Spare\distro\spare-wsl.tar`, `C:\Users\u\AppData\Local\Spare\wsl`
	for _, tc := range []struct {
		name    string
		pc      windowsPC
		missing bool
		imports bool
		problem string // "" when the import succeeds
	}{
		{"already there", windowsPC{wslOut: utf16le("Debian\r\nSpare\r\n")}, false, false, ""},
		{"first run", windowsPC{wslOut: utf16le("Debian\r\nSpareOther\r\n"), files: []string{image}}, true, true, ""},
		{"no distributions yet, import fails", windowsPC{wslErr: errors.New("exit status 1"), files: []string{image}}, true, true, "wsl --import said: exit status 1"},
		{"image missing", windowsPC{wslOut: []byte("Ubuntu\n")}, true, false, "is missing from its install folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			missing := distributionMissing(ctx, &tc.pc, wsl, "Spare")
			if missing != tc.missing {
				t.Fatalf("missing %v, want %v", missing, tc.missing)
			}
			if !missing {
				return
			}
			err := importDistribution(ctx, &tc.pc, wsl, "Spare", dir, image)
			imported := len(tc.pc.ran) == 2 && slices.Equal(tc.pc.ran[1], importArgv(wsl, "Spare", dir, image))
			if imported != tc.imports {
				t.Errorf("ran %q; import wanted: %v", tc.pc.ran, tc.imports)
			}
			var p HostProblem
			switch {
			case tc.problem == "" && err != nil:
				t.Errorf("err %v, want none", err)
			case tc.problem != "" && (!errors.As(err, &p) || !strings.Contains(p.Problem, tc.problem) || p.Fix == ""):
				t.Errorf("err %#v, want a problem saying %q, with a fix", err, tc.problem)
			}
		})
	}
}

// A failed import is said as its cause and fix, from the code WSL prints
// (its output is UTF-16 on most Windows versions).
func TestImportProblem(t *testing.T) {
	dir := `C:\Users\u\AppData\Local\Spare\wsl`
	exit := errors.New("exit status 4294967295")
	for _, tc := range []struct {
		said, problem, fix string
	}{
		{"Error code: Wsl/Service/RegisterDistro/CreateVm/HCS/HCS_E_HYPERV_NOT_INSTALLED", NoVirtualisation, FixVirtualisation},
		{"Please enable the Virtual Machine Platform Windows feature and ensure virtualization is enabled in the BIOS.\r\nError code: Wsl/Service/RegisterDistro/CreateVm/0x80370114", "Virtual Machine Platform", "wsl --install --no-distribution"},
		{"WSL 2 requires an update to its kernel component.\r\nError code: Wsl/Service/RegisterDistro/0x800701bc", "Linux kernel", "wsl --update"},
		{"There is not enough space on the disk.\r\nError code: Wsl/Service/RegisterDistro/0x80070070", "not enough free disk space", "Free some space"},
		{"Error code: Wsl/Service/RegisterDistro/ERROR_ALREADY_EXISTS", dir, "Move that folder"},
		{"Error code: Wsl/WSL_E_WSL_OPTIONAL_COMPONENT_REQUIRED", NoWSL, FixWSL},
		{"The system cannot find the file specified.", "wsl --import said: The system cannot find the file specified.", FixSetup},
		{"", "wsl --import said: exit status 4294967295", FixSetup},
	} {
		p := importProblem(strings.TrimSpace(wslText(utf16le(tc.said))), exit, dir)
		if !strings.Contains(p.Problem, tc.problem) || !strings.Contains(p.Fix, tc.fix) {
			t.Errorf("wsl said %q: problem %q, fix %q; want them to say %q and %q", tc.said, p.Problem, p.Fix, tc.problem, tc.fix)
		}
	}
}
