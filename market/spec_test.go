package market

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	digestA = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	digestB = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// validSpec is a small valid spec tests mutate.
func validSpec() *JobSpec {
	s := &JobSpec{
		Kind:      KindInference,
		Image:     Image{Digest: digestA, Size: 100 << 20, Blob: true},
		Command:   []string{"infer", "/input/x"},
		Resources: Resources{GPUs: 1, VRAM: 4 << 30, CPUs: 2000, Memory: 4 << 30},
		MaxPrice:  1000,
	}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

func TestDecodeSpecFiles(t *testing.T) {
	var hashes []Hash
	for _, name := range []string{"render.yaml", "render.json"} {
		t.Run(name, func(t *testing.T) {
			s, err := DecodeSpecFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if s.Resources.CPUs != 500 || s.Resources.VRAM != 6<<30 || s.Resources.Memory != 4<<30 ||
				s.Image.Size != 120<<20 || time.Duration(s.MaxDuration) != 10*time.Minute || s.Replicas != 2 {
				t.Errorf("decoded %+v", s)
			}
			if s.WorkloadKind() != KindRender {
				t.Errorf("kind %q", s.WorkloadKind())
			}
			hashes = append(hashes, s.JobHash())
		})
	}
	if len(hashes) == 2 && hashes[0] != hashes[1] {
		t.Errorf("same job in YAML and JSON hashes differently: %s vs %s", hashes[0], hashes[1])
	}
}

func TestDecodeSpecRejects(t *testing.T) {
	base := `{"image":{"digest":"` + digestA + `","size":10,"blob":true},"max_price":1`
	tests := []struct {
		name, in string
		f        Format
		want     string // substring of the error
	}{
		{"unknown field", base + `,"gpu":1}`, FormatJSON, `unknown field "gpu"`},
		{"unknown nested field", `{"image":{"digest":"` + digestA + `","size":10,"blob":true,"tag":"x"},"max_price":1}`, FormatJSON, `unknown field "tag"`},
		{"unknown yaml field", "image: {digest: " + digestA + ", size: 10, blob: true}\nmax_price: 1\nprice: 3\n", FormatYAML, `unknown field "price"`},
		{"trailing data", base + `}{}`, FormatJSON, "data after the spec"},
		{"two yaml documents", "max_price: 1\n---\nmax_price: 2\n", FormatYAML, "more than one YAML document"},
		{"yaml non-string key", "1: x\n", FormatYAML, "keys must be strings"},
		{"empty", "", FormatYAML, "empty document"},
		{"float price", base[:len(base)-1] + `1.5}`, FormatJSON, "max_price"},
		{"negative gpus", base + `,"resources":{"gpus":-1}}`, FormatJSON, "resources.gpus"},
		{"bad size", base + `,"resources":{"memory":"lots"}}`, FormatJSON, "lots"},
		{"memory ceiling", base + `,"resources":{"memory":"100T"}}`, FormatJSON, "resources.memory: 100 TiB exceeds the 1 TiB ceiling"},
		{"oversized", strings.Repeat(" ", MaxSpecSize+1), FormatJSON, "at most 65536"},
		{"duplicate yaml key", "max_price: 1\nmax_price: 2\n", FormatYAML, "already defined"},
		{"output budget above the cap", base + `,"max_output":"2G"}`, FormatJSON, "max_output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeSpec([]byte(tc.in), tc.f)
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("err = %v, want ErrInvalidSpec", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestValidateNamesField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*JobSpec)
		want   string
	}{
		{"no digest", func(s *JobSpec) { s.Image.Digest = "" }, "image.digest"},
		{"uppercase digest", func(s *JobSpec) { s.Image.Digest = Digest(strings.ToUpper(digestA)) }, "image.digest"},
		{"no source", func(s *JobSpec) { s.Image.Blob = false }, "image: say where to get it"},
		{"ref and blob", func(s *JobSpec) { s.Image.Ref = "alpine:3" }, "image: ref and blob are exclusive"},
		{"ref pins other digest", func(s *JobSpec) { s.Image.Blob = false; s.Image.Ref = "alpine@" + digestB }, "image.ref: pins"},
		{"ref url", func(s *JobSpec) { s.Image.Blob = false; s.Image.Ref = "https://x/y" }, "image.ref"},
		{"no image size", func(s *JobSpec) { s.Image.Size = 0 }, "image.size: required"},
		{"image too big", func(s *JobSpec) { s.Image.Size = MaxImageSize + 1 }, "image.size"},
		{"kind", func(s *JobSpec) { s.Kind = "mining" }, "kind: \"mining\""},
		{"kind label", func(s *JobSpec) { s.Kind = ""; s.Labels = map[string]string{KindLabel: "mining"} }, "labels.spare.kind"},
		{"label control", func(s *JobSpec) { s.Labels = map[string]string{"a": "b\n"} }, "labels.a"},
		{"arg NUL", func(s *JobSpec) { s.Command = []string{"a", "b\x00"} }, "command[1]: contains NUL"},
		{"too many args", func(s *JobSpec) { s.Command = make([]string, MaxArgs+1) }, "command: 257 arguments"},
		{"env no equals", func(s *JobSpec) { s.Env = []string{"A=1", "B"} }, "env[1]"},
		{"env bad key", func(s *JobSpec) { s.Env = []string{"1A=1"} }, "env[0]"},
		{"env NUL", func(s *JobSpec) { s.Env = []string{"A=\x00"} }, "env[0]: contains NUL"},
		{"env twice", func(s *JobSpec) { s.Env = []string{"A=1", "A=2"} }, "env[1]: A is set twice"},
		{"env long", func(s *JobSpec) { s.Env = []string{"A=" + strings.Repeat("x", MaxEnvLen)} }, "env[0]: longer"},
		{"input slash", func(s *JobSpec) { s.Inputs = []Input{{Name: "../x", Digest: digestB, Size: 1}} }, "inputs[0].name"},
		{"input dup", func(s *JobSpec) {
			s.Inputs = []Input{{Name: "x", Digest: digestB}, {Name: "x", Digest: digestB}}
		}, "inputs[1].name"},
		{"input digest", func(s *JobSpec) { s.Inputs = []Input{{Name: "x", Digest: "md5:1"}} }, "inputs[0].digest"},
		{"input size", func(s *JobSpec) { s.Inputs = []Input{{Name: "x", Digest: digestB, Size: -1}} }, "inputs[0].size"},
		{"output outside", func(s *JobSpec) { s.Outputs = []string{"/etc/passwd"} }, "outputs[0]"},
		{"output escape", func(s *JobSpec) { s.Outputs = []string{"/output/../etc"} }, "outputs[0]"},
		{"output prefix trick", func(s *JobSpec) { s.Outputs = []string{"/outputs"} }, "outputs[0]"},
		{"gpus", func(s *JobSpec) { s.Resources.GPUs = MaxGPUs + 1 }, "resources.gpus"},
		{"vram without gpu", func(s *JobSpec) { s.Resources.GPUs = 0 }, "resources.vram: set without"},
		{"cpus", func(s *JobSpec) { s.Resources.CPUs = MaxMilliCPU + 1 }, "resources.cpus"},
		{"memory low", func(s *JobSpec) { s.Resources.Memory = 1 << 20 }, "resources.memory: 1 MiB is below"},
		{"disk", func(s *JobSpec) { s.Resources.Disk = -1 }, "resources.disk"},
		{"duration long", func(s *JobSpec) { s.MaxDuration = Duration(8 * 24 * time.Hour) }, "max_duration"},
		{"duration fraction", func(s *JobSpec) { s.MaxDuration = Duration(1500 * time.Millisecond) }, "whole number of seconds"},
		{"no price", func(s *JobSpec) { s.MaxPrice = 0 }, "max_price: required"},
		{"price ceiling", func(s *JobSpec) { s.MaxPrice = MaxPricePerSec + 1 }, "max_price"},
		{"replicas", func(s *JobSpec) { s.Replicas = MaxReplicas + 1 }, "replicas"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec()
			tc.mutate(s)
			err := s.Validate()
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("err = %v, want ErrInvalidSpec", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to name %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := validSpec()
	s.MaxPrice = 0
	s.Replicas = 99
	err := s.Validate()
	for _, f := range []string{"max_price", "replicas"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("err = %v, want %s named", err, f)
		}
	}
}

func TestJobHash(t *testing.T) {
	a, b := validSpec(), validSpec()
	if a.JobHash() != b.JobHash() {
		t.Fatal("equal specs hash differently")
	}
	// Defaults filled in or written out hash the same.
	c := validSpec()
	c.Resources.Memory, c.Replicas = 0, 0
	d := validSpec()
	d.Resources.Memory, d.Replicas = DefaultMemory, 1
	if c.JobHash() != d.JobHash() {
		t.Error("defaulted and explicit specs hash differently")
	}
	// Map order never matters.
	e, f := validSpec(), validSpec()
	e.Labels = map[string]string{"a": "1", "b": "2", "c": "3"}
	f.Labels = map[string]string{"c": "3", "b": "2", "a": "1"}
	if e.JobHash() != f.JobHash() {
		t.Error("label order changes the hash")
	}
	g := validSpec()
	g.Env = []string{"A=1"}
	if g.JobHash() == a.JobHash() {
		t.Error("different specs hash the same")
	}
	// The canonical encoding is pinned: changing it breaks signed agreements.
	const want = "0x289e4279391b10b050fbb253d10a745d264e5cb2af78bf1eae40826e281626fa"
	if got := a.JobHash().String(); got != want {
		t.Errorf("JobHash() = %s, want %s (the canonical form changed)", got, want)
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		err  bool
	}{
		{"1048576", 1 << 20, false},
		{"512M", 512 << 20, false},
		{"8G", 8 << 30, false},
		{"1.5GiB", 3 << 29, false},
		{"2gb", 2 << 30, false},
		{"1T", 1 << 40, false},
		{"0.001K", 1, false},
		{"", 0, true},
		{"1.5", 0, true},
		{"-1G", 0, true},
		{"1e9", 0, true},
		{"G", 0, true},
		{"99999999999P", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseByteSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	for in, want := range map[ByteSize]string{512 << 20: "512 MiB", 1 << 40: "1 TiB", 3 << 29: "1.5 GiB", 100: "100 B"} {
		if got := in.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(in), got, want)
		}
	}
}

func TestParseMilliCPU(t *testing.T) {
	tests := []struct {
		in   string
		want MilliCPU
		err  bool
	}{
		{"2", 2000, false}, {"0.5", 500, false}, {"1.25", 1250, false}, {"500m", 500, false},
		{"0.0005", 0, true}, {"-1", 0, true}, {"1e3", 0, true}, {"m", 0, true}, {"", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseMilliCPU(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMilliCPU(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestDecodeSpecFileErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "job.yml")
	if err := os.WriteFile(p, []byte("max_price: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := DecodeSpecFile(p)
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "image.digest") || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v", err)
	}
	if _, err := DecodeSpecFile(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want os.ErrNotExist", err)
	}
}
