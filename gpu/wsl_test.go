package gpu

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	oci "github.com/opencontainers/runtime-spec/specs-go"
	"tags.cncf.io/container-device-interface/pkg/cdi"
)

// fakeWSL writes the tree a WSL2 distribution sees with an NVIDIA
// driver on Windows: /dev/dxg, /usr/lib/wsl/lib with the driver's
// libraries (libcuda.so.1 a link, as WSL makes it), an NVIDIA driver
// store and an Intel one beside it.
func fakeWSL(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	nv := "usr/lib/wsl/drivers/nv_dispi.inf_amd64_5f3c9d1e"
	for _, f := range []string{"dev/dxg",
		"usr/lib/wsl/lib/libcuda.so.1.1", "usr/lib/wsl/lib/libdxcore.so", "usr/lib/wsl/lib/libnvidia-ml.so.1",
		"usr/lib/wsl/lib/nvidia-smi", "usr/lib/wsl/lib/libd3d12.so",
		nv + "/libcuda.so.1.1", nv + "/libnvidia-ml.so.1", nv + "/nvcubins.bin", nv + "/libnvwgf2umx.so",
		"usr/lib/wsl/drivers/iigd_dch.inf_amd64_0a1b2c/libigdgmm.so"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("libcuda.so.1.1", filepath.Join(root, "usr/lib/wsl/lib/libcuda.so.1")); err != nil {
		t.Fatal(err)
	}
	return root
}

var wslGPUs = []Device{{Index: 0, UUID: "GPU-6c9e4d2a-0b1f-4c3e-9a55-2f6d7e8a9b0c"}, {Index: 1, UUID: "GPU-0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"}}

// TestWSLCDISpec: the spec built from a WSL tree is one CDI's own
// parser accepts; a job given a GPU by UUID or index gets /dev/dxg, the
// driver's files from /usr/lib/wsl read-only, the library path to them,
// and that GPU alone in CUDA_VISIBLE_DEVICES. The Intel driver store
// and Windows' own D3D libraries stay out.
func TestWSLCDISpec(t *testing.T) {
	root := fakeWSL(t)
	b, err := WSLCDISpec(root, wslGPUs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), WSLCDIFile)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := cdi.ReadSpec(path, 0)
	if err != nil {
		t.Fatalf("CDI rejects the spec: %v\n%s", err, b)
	}
	if spec.Kind != CDIKind {
		t.Fatalf("kind %q, want %q", spec.Kind, CDIKind)
	}
	// Spare's own reader lists what the provider asks for by UUID and
	// what `spare run --gpus` asks for by index.
	listed, err := ListCDISpecs([]string{filepath.Dir(path)})
	if err != nil {
		t.Fatal(err)
	}
	names, err := GPUDevices(listed)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{CDIName(wslGPUs[0].UUID), CDIIndex(0), CDIName(wslGPUs[1].UUID), CDIIndex(1), CDIName("all")} {
		if !slices.Contains(names, want) {
			t.Errorf("the spec lacks %s (has %v)", want, names)
		}
	}

	edits := spec.ContainerEdits
	if len(edits.DeviceNodes) != 1 || edits.DeviceNodes[0].Path != "/dev/dxg" {
		t.Errorf("device nodes %+v, want /dev/dxg alone", edits.DeviceNodes)
	}
	var mounted []string
	for _, m := range edits.Mounts {
		if m.HostPath != m.ContainerPath || !slices.Contains(m.Options, "ro") || !slices.Contains(m.Options, "nosuid") {
			t.Errorf("mount %+v: want the same path inside, read-only, nosuid", m)
		}
		mounted = append(mounted, m.ContainerPath)
	}
	store := "/usr/lib/wsl/drivers/nv_dispi.inf_amd64_5f3c9d1e"
	for _, want := range []string{"/usr/lib/wsl/lib/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1.1", "/usr/lib/wsl/lib/libdxcore.so",
		"/usr/lib/wsl/lib/libnvidia-ml.so.1", "/usr/lib/wsl/lib/nvidia-smi", store + "/libcuda.so.1.1", store + "/nvcubins.bin"} {
		if !slices.Contains(mounted, want) {
			t.Errorf("the spec does not mount %s (mounts %v)", want, mounted)
		}
	}
	for _, m := range mounted {
		if strings.Contains(m, "iigd_dch") || strings.HasSuffix(m, "libd3d12.so") || strings.HasSuffix(m, "libnvwgf2umx.so") {
			t.Errorf("the spec mounts %s, which CUDA jobs do not need", m)
		}
	}
	if !slices.Contains(edits.Env, "LD_LIBRARY_PATH=/usr/lib/wsl/lib:"+store) {
		t.Errorf("env %v, want the library path to /usr/lib/wsl/lib and the store", edits.Env)
	}

	for _, name := range []string{wslGPUs[1].UUID, "1"} {
		d := spec.GetDevice(name)
		if d == nil {
			t.Fatalf("no device %s", name)
		}
		var o oci.Spec
		if err := d.ApplyEdits(&o); err != nil {
			t.Fatal(err)
		}
		if o.Process == nil || !slices.Contains(o.Process.Env, "CUDA_VISIBLE_DEVICES="+wslGPUs[1].UUID) {
			t.Errorf("device %s gives the job %+v, want CUDA_VISIBLE_DEVICES=%s", name, o.Process, wslGPUs[1].UUID)
		}
	}
}

// TestWSLCDISpecRefuses: no /dev/dxg, no NVIDIA libraries, no NVIDIA
// driver store, or a UUID that is not NVML's: no spec, and why.
func TestWSLCDISpecRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		remove string
		devs   []Device
	}{
		"no /dev/dxg":         {remove: "dev/dxg"},
		"no driver libraries": {remove: "usr/lib/wsl/lib"},
		"no NVIDIA store":     {remove: "usr/lib/wsl/drivers/nv_dispi.inf_amd64_5f3c9d1e"},
		"a bad UUID":          {devs: []Device{{Index: 0, UUID: "../../etc"}}},
	} {
		t.Run(name, func(t *testing.T) {
			root := fakeWSL(t)
			if tc.remove != "" {
				if err := os.RemoveAll(filepath.Join(root, tc.remove)); err != nil {
					t.Fatal(err)
				}
			}
			b, err := WSLCDISpec(root, tc.devs)
			if err == nil {
				t.Fatalf("a spec without %s:\n%s", name, b)
			}
			if tc.remove != "" && !errors.Is(err, ErrNoWSLGPU) {
				t.Errorf("%v, want ErrNoWSLGPU", err)
			}
			if tc.devs != nil && !strings.Contains(err.Error(), "UUID") {
				t.Errorf("%v does not name the UUID", err)
			}
		})
	}
}

// TestWriteWSLCDISpec: the daemon's write lands whole in the runtime's
// directory and is rewritten on the next start; a spec the NVIDIA
// toolkit wrote keeps precedence and nothing is written.
func TestWriteWSLCDISpec(t *testing.T) {
	root := fakeWSL(t)
	etc, run := t.TempDir(), filepath.Join(t.TempDir(), "cdi")
	dirs := []string{etc, run}
	for range 2 {
		p, err := WriteWSLCDISpec(root, run, dirs, wslGPUs[:1])
		if err != nil || p != filepath.Join(run, WSLCDIFile) {
			t.Fatalf("wrote %q: %v", p, err)
		}
	}
	entries, _ := os.ReadDir(run)
	if len(entries) != 1 {
		t.Errorf("the CDI directory holds %d files, want the spec alone", len(entries))
	}
	if err := os.WriteFile(filepath.Join(etc, "nvidia.yaml"), []byte("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(run, WSLCDIFile)); err != nil {
		t.Fatal(err)
	}
	if p, err := WriteWSLCDISpec(root, run, dirs, wslGPUs[:1]); err != nil || p != "" {
		t.Fatalf("with the toolkit's spec present: wrote %q, %v; want nothing", p, err)
	}
}

// TestIsWSL: each sign WSL2 leaves is enough; a plain Linux root has none.
func TestIsWSL(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	write := func(root, f, body string) {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plain := t.TempDir()
	write(plain, "proc/sys/kernel/osrelease", "6.1.0-28-amd64\n")
	write(plain, "dev/dxg", "")
	if IsWSL(plain, env(nil)) {
		t.Error("a Debian kernel with a /dev/dxg but no WSL_DISTRO_NAME counts as WSL")
	}
	if !IsWSL(plain, env(map[string]string{"WSL_DISTRO_NAME": "Spare"})) {
		t.Error("/dev/dxg with WSL_DISTRO_NAME is not WSL")
	}
	kernel := t.TempDir()
	write(kernel, "proc/sys/kernel/osrelease", "5.15.167.4-microsoft-standard-WSL2\n")
	if !IsWSL(kernel, env(nil)) {
		t.Error("the WSL2 kernel is not WSL")
	}
	interop := t.TempDir()
	write(interop, "proc/sys/fs/binfmt_misc/WSLInterop", "enabled\n")
	if !IsWSL(interop, env(nil)) {
		t.Error("the WSLInterop handler is not WSL")
	}
}
