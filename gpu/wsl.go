package gpu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// WSL2 gives a distribution its GPUs by paravirtualisation, not by the
// /dev/nvidia* nodes a Linux driver makes: one device node, /dev/dxg,
// for every GPU; the Windows driver's user-space libraries under
// /usr/lib/wsl/lib (libcuda, libnvidia-ml, libdxcore, nvidia-smi), which
// load the rest from the driver's store under /usr/lib/wsl/drivers. No
// NVIDIA Container Toolkit is installed in Spare's distribution, so the
// daemon writes the CDI spec for this itself (WSLCDISpec), from what the
// distribution sees.

// WSL paths, relative to the root the functions below are given.
const (
	wslDXG     = "dev/dxg"
	wslLib     = "usr/lib/wsl/lib"
	wslDrivers = "usr/lib/wsl/drivers"
)

// WSLCDIFile is the name of the spec the daemon writes under WSL.
const WSLCDIFile = "spare-wsl-nvidia.yaml"

// ErrNoWSLGPU means the distribution sees no NVIDIA GPU by WSL's
// paravirtualisation: no /dev/dxg, or no NVIDIA libraries beside it.
var ErrNoWSLGPU = errors.New("no NVIDIA GPU through WSL (no /dev/dxg, or no NVIDIA driver libraries under /usr/lib/wsl)")

// IsWSL reports whether root ("/" on a live system) is a WSL2
// distribution: WSL registers its Windows-interop handler, or the
// kernel is Microsoft's WSL2 kernel, or /dev/dxg is there and WSL named
// the distribution in the environment.
func IsWSL(root string, getenv func(string) string) bool {
	if _, err := os.Stat(filepath.Join(root, "proc/sys/fs/binfmt_misc/WSLInterop")); err == nil {
		return true
	}
	if b, err := os.ReadFile(filepath.Join(root, "proc/sys/kernel/osrelease")); err == nil &&
		strings.Contains(strings.ToLower(string(b)), "microsoft") {
		return true
	}
	_, err := os.Stat(filepath.Join(root, wslDXG))
	return err == nil && getenv("WSL_DISTRO_NAME") != ""
}

// wslLibNames are the driver files a CUDA job needs, as nvidia-ctk's
// WSL mode lists them; the spec mounts those present.
var wslLibNames = []string{
	"libcuda.so", "libcuda.so.1", "libcuda.so.1.1", "libcuda_loader.so",
	"libnvidia-ml.so.1", "libnvidia-ml_loader.so", "libnvidia-ptxjitcompiler.so.1",
	"libnvdxgdmal.so.1", "libdxcore.so", "nvcubins.bin", "nvidia-smi",
}

// WSLCDISpec returns a CDI spec (YAML) for the NVIDIA GPUs of a WSL2
// distribution whose root is root: kind nvidia.com/gpu, one device per
// GPU in devs by its UUID and by its index, and "all"; every device gets
// /dev/dxg, the driver's files under /usr/lib/wsl/lib and the NVIDIA
// driver store directories (those holding libcuda.so.1.1 or
// libnvidia-ml.so.1) mounted read-only at the same paths, and the
// library path to find them. /dev/dxg carries every GPU: a device picks
// its GPU with CUDA_VISIBLE_DEVICES, which CUDA honours but which is no
// fence; a job that opens /dev/dxg itself sees them all. devs comes from
// NVML (which works under WSL); empty devs gives the "all" device alone.
func WSLCDISpec(root string, devs []Device) ([]byte, error) {
	if _, err := os.Stat(filepath.Join(root, wslDXG)); err != nil {
		return nil, ErrNoWSLGPU
	}
	var mounts []cdiMount
	addFiles := func(dir string) int {
		n := 0
		for _, name := range wslLibNames {
			p := filepath.Join(root, dir, name)
			fi, err := os.Stat(p) // follows links: WSL's are links into the store
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			in := "/" + filepath.ToSlash(filepath.Join(dir, name))
			mounts = append(mounts, cdiMount{HostPath: in, ContainerPath: in, Options: []string{"ro", "nosuid", "nodev", "bind"}})
			n++
		}
		return n
	}
	if addFiles(wslLib) == 0 {
		return nil, ErrNoWSLGPU
	}
	stores, _ := os.ReadDir(filepath.Join(root, wslDrivers))
	sort.Slice(stores, func(i, j int) bool { return stores[i].Name() < stores[j].Name() })
	var storeDirs []string
	for _, s := range stores {
		dir := filepath.Join(wslDrivers, s.Name())
		if !s.IsDir() || !nvidiaStore(filepath.Join(root, dir)) {
			continue
		}
		addFiles(dir)
		storeDirs = append(storeDirs, "/"+filepath.ToSlash(dir))
	}
	if len(storeDirs) == 0 {
		return nil, fmt.Errorf("%w: no NVIDIA driver store under /%s", ErrNoWSLGPU, wslDrivers)
	}
	spec := cdiFile{
		Version: "0.5.0",
		Kind:    CDIKind,
		Edits: cdiEdits{
			DeviceNodes: []cdiNode{{Path: "/dev/dxg"}},
			Mounts:      mounts,
			Env:         []string{"LD_LIBRARY_PATH=" + strings.Join(append([]string{"/" + wslLib}, storeDirs...), ":")},
		},
	}
	for _, d := range devs {
		if !strings.HasPrefix(d.UUID, "GPU-") {
			return nil, fmt.Errorf("GPU %d has UUID %q, want NVML's GPU-… form", d.Index, d.UUID)
		}
		env := cdiEdits{Env: []string{"CUDA_VISIBLE_DEVICES=" + d.UUID, "NVIDIA_VISIBLE_DEVICES=" + d.UUID}}
		spec.Devices = append(spec.Devices,
			cdiDevice{Name: d.UUID, Edits: env},
			cdiDevice{Name: fmt.Sprint(d.Index), Edits: env})
	}
	spec.Devices = append(spec.Devices, cdiDevice{Name: "all", Edits: cdiEdits{Env: []string{"NVIDIA_VISIBLE_DEVICES=all"}}})
	return yaml.Marshal(spec)
}

// nvidiaStore reports whether a driver store directory is NVIDIA's.
func nvidiaStore(dir string) bool {
	for _, f := range []string{"libcuda.so.1.1", "libnvidia-ml.so.1"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// WriteWSLCDISpec writes WSLCDISpec's spec for root ("/" on the live
// system) into dir/WSLCDIFile (atomically: a runtime reading the directory never sees
// half a file) and returns its path. The daemon calls it at start under
// WSL, where no other tool writes one; an NVIDIA spec already in dirs
// (an owner who installed the toolkit) is left to rule, and nothing is
// written.
func WriteWSLCDISpec(root, dir string, dirs []string, devs []Device) (string, error) {
	if specs, _ := ListCDISpecs(dirs); len(specs) > 0 {
		for _, s := range specs {
			if s.Kind == CDIKind && filepath.Base(s.Path) != WSLCDIFile {
				return "", nil
			}
		}
	}
	b, err := WSLCDISpec(root, devs)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating the CDI directory: %w", err)
	}
	path := filepath.Join(dir, WSLCDIFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return "", fmt.Errorf("writing the WSL CDI spec: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing the WSL CDI spec: %w", err)
	}
	return path, nil
}

// The CDI spec's form (github.com/cncf-tags/container-device-interface
// specs-go), the fields this spec uses.
type cdiFile struct {
	Version string      `yaml:"cdiVersion"`
	Kind    string      `yaml:"kind"`
	Devices []cdiDevice `yaml:"devices"`
	Edits   cdiEdits    `yaml:"containerEdits"`
}

type cdiDevice struct {
	Name  string   `yaml:"name"`
	Edits cdiEdits `yaml:"containerEdits"`
}

type cdiEdits struct {
	Env         []string   `yaml:"env,omitempty"`
	DeviceNodes []cdiNode  `yaml:"deviceNodes,omitempty"`
	Mounts      []cdiMount `yaml:"mounts,omitempty"`
}

type cdiNode struct {
	Path string `yaml:"path"`
}

type cdiMount struct {
	HostPath      string   `yaml:"hostPath"`
	ContainerPath string   `yaml:"containerPath"`
	Options       []string `yaml:"options,omitempty"`
}
