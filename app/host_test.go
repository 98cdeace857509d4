package app

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
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

func TestEnsureDistribution(t *testing.T) {
	wsl, image := `C:\Windows\System32\wsl.exe`, `C:\Spare\distro\spare-wsl.tar`
	for _, tc := range []struct {
		name    string
		pc      windowsPC
		imports bool
		fails   bool
	}{
		{"already there", windowsPC{wslOut: utf16le("Debian\r\nSpare\r\n")}, false, false},
		{"first run", windowsPC{wslOut: utf16le("Debian\r\nSpareOther\r\n"), files: []string{image}}, true, false},
		{"no distributions yet", windowsPC{wslErr: errors.New("exit status 1"), files: []string{image}}, true, true},
		{"image missing", windowsPC{wslOut: []byte("Ubuntu\n")}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ensureDistribution(context.Background(), &tc.pc, wsl, "Spare", `C:\Users\u\AppData\Local\Spare\wsl`, image)
			imported := len(tc.pc.ran) == 2 && slices.Equal(tc.pc.ran[1], importArgv(wsl, "Spare", `C:\Users\u\AppData\Local\Spare\wsl`, image))
			if imported != tc.imports {
				t.Errorf("ran %q; import wanted: %v", tc.pc.ran, tc.imports)
			}
			if (err != nil) != tc.fails {
				t.Errorf("err %v, want failure: %v", err, tc.fails)
			}
		})
	}
}
