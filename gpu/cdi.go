package gpu

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// CDIKind is the CDI vendor/class of NVIDIA GPUs as nvidia-ctk writes it.
const CDIKind = "nvidia.com/gpu"

// DefaultCDIDirs are where container runtimes look for CDI specs, in
// order of precedence (later overrides earlier for the same name).
var DefaultCDIDirs = []string{"/etc/cdi", "/var/run/cdi"}

// CDIName returns the fully-qualified CDI device name for a GPU given by
// index ("0") or UUID ("GPU-…"): "nvidia.com/gpu=0".
func CDIName(indexOrUUID string) string { return CDIKind + "=" + indexOrUUID }

// CDIIndex returns the CDI name of the GPU with the given index.
func CDIIndex(i int) string { return CDIName(strconv.Itoa(i)) }

// CDISpec is the part of a CDI spec file Spare reads: which devices of
// which kind it defines.
type CDISpec struct {
	Path    string   // file the spec came from
	Kind    string   // e.g. "nvidia.com/gpu"
	Devices []string // device names as written ("0", "GPU-…", "all")
}

// Qualified returns the fully-qualified device names ("kind=name").
func (s CDISpec) Qualified() []string {
	out := make([]string, 0, len(s.Devices))
	for _, d := range s.Devices {
		out = append(out, s.Kind+"="+d)
	}
	return out
}

// ErrNoCDISpec means no CDI spec defines NVIDIA GPUs.
var ErrNoCDISpec = errors.New("no CDI spec for " + CDIKind)

// ListCDISpecs reads every *.yaml, *.yml and *.json file in dirs (nil
// means DefaultCDIDirs) and returns the kind and device names of each.
// Missing directories are skipped; a file that does not parse is reported
// in the joined error while the others are still returned.
func ListCDISpecs(dirs []string) ([]CDISpec, error) {
	if dirs == nil {
		dirs = DefaultCDIDirs
	}
	var (
		specs []CDISpec
		errs  []error
	)
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reading CDI dir: %w", err))
			continue
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
				continue
			}
			p := filepath.Join(dir, e.Name())
			s, err := readCDISpec(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			specs = append(specs, s)
		}
	}
	return specs, errors.Join(errs...)
}

// GPUDevices returns the qualified NVIDIA GPU device names found in specs,
// or ErrNoCDISpec when there are none.
func GPUDevices(specs []CDISpec) ([]string, error) {
	var out []string
	for _, s := range specs {
		if s.Kind == CDIKind {
			out = append(out, s.Qualified()...)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoCDISpec
	}
	return out, nil
}

func readCDISpec(path string) (CDISpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return CDISpec{}, fmt.Errorf("reading CDI spec: %w", err)
	}
	// JSON is YAML, so one decoder reads both forms.
	var raw struct {
		Kind    string `yaml:"kind"`
		Devices []struct {
			Name string `yaml:"name"`
		} `yaml:"devices"`
	}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return CDISpec{}, fmt.Errorf("parsing CDI spec %s: %w", path, err)
	}
	if raw.Kind == "" {
		return CDISpec{}, fmt.Errorf("parsing CDI spec %s: no kind", path)
	}
	s := CDISpec{Path: path, Kind: raw.Kind}
	for _, d := range raw.Devices {
		if d.Name != "" {
			s.Devices = append(s.Devices, d.Name)
		}
	}
	return s, nil
}
