package market

import (
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrInvalidSpec is wrapped by every error that rejects a job spec; the
// message names the field path ("resources.memory: ...").
var ErrInvalidSpec = errors.New("invalid job spec")

// Limits on a job spec. A spec breaking one is refused before it travels.
const (
	MaxSpecSize    = 64 << 10 // encoded spec, bytes
	MaxArgs        = 256      // command arguments
	MaxArgLen      = 4096     // one argument, bytes
	MaxCommandSize = 32 << 10 // all arguments together, bytes
	MaxEnv         = 128      // environment entries
	MaxEnvLen      = 4096     // one KEY=VALUE entry, bytes
	MaxInputs      = 64
	MaxOutputs     = 64
	// DefaultMaxOutput bounds what a job returns (its max_output, which
	// can only lower it): the sandbox's /output, a memory-backed tmpfs of
	// the provider's, is no larger.
	DefaultMaxOutput = 1 << 30
	MaxOutputBudget  = DefaultMaxOutput
	MaxNameLen       = 255 // an input's file name, or one segment of an output path, bytes
	MaxPathLen       = 1024
	MaxRefLen        = 512 // an image registry reference
	MaxLabels        = 16
	MaxLabelLen      = 128
	MaxReplicas      = 5
	MaxGPUs          = 16

	MaxImageSize    ByteSize = 64 << 30
	MaxInputSize    ByteSize = 64 << 30
	MaxVRAM         ByteSize = 1 << 40
	MaxMemory       ByteSize = 1 << 40
	MinMemory       ByteSize = 16 << 20
	MaxDisk         ByteSize = 16 << 40
	MaxMilliCPU     MilliCPU = 1024 * 1000
	MaxJobDuration           = 7 * 24 * time.Hour
	MaxPricePerSec  uint64   = 1 << 40 // smallest units per second (~1.1M currency/s)
	OutputDir                = "/output"
	DefaultMemory   ByteSize = 2 << 30
	DefaultMilliCPU MilliCPU = 1000
	DefaultDuration          = time.Hour
)

// Kind is a workload class a provider may allow or refuse.
type Kind string

// Workload kinds. A spec with no kind is "" and only runs on providers
// whose policy does not restrict kinds.
const (
	KindRender    Kind = "render"
	KindInference Kind = "inference"
)

// KindLabel is the label a spec may use instead of the kind field.
const KindLabel = "spare.kind"

// JobSpec is a job as a requester submits it. Decode it with DecodeSpec or
// DecodeSpecFile, which validate it; a JobSpec built in code must pass
// Validate before use. Field comments say what the zero value means.
type JobSpec struct {
	// Kind is the workload class (render, inference); empty: the
	// spare.kind label, or unspecified.
	Kind Kind `json:"kind,omitempty"`
	// Labels are free-form key/values, bounded; the provider sees them.
	Labels map[string]string `json:"labels,omitempty"`
	// Image is required.
	Image Image `json:"image"`
	// Command is the argv run in the container; empty: the image's default.
	Command []string `json:"command,omitempty"`
	// Env is KEY=VALUE entries added to the container's environment.
	Env []string `json:"env,omitempty"`
	// Inputs are files placed read-only under /input/<name>.
	Inputs []Input `json:"inputs,omitempty"`
	// Outputs are paths under /output returned to the requester; empty:
	// everything under /output.
	Outputs []string `json:"outputs,omitempty"`
	// MaxOutput is the most the job may return, all outputs together: the
	// provider caps /output at it and the requester fetches no more,
	// whatever a provider declares; zero: DefaultMaxOutput, which is also
	// the most it may be.
	MaxOutput ByteSize  `json:"max_output,omitempty"`
	Resources Resources `json:"resources"`
	// MaxDuration is the wall-clock limit, whole seconds; zero: 1 hour.
	MaxDuration Duration `json:"max_duration,omitempty"`
	// MaxPrice is the most the requester pays per second of the whole job,
	// in the token's smallest unit (1 = 0.000001). Required.
	MaxPrice uint64 `json:"max_price"`
	// Replicas is how many distinct providers run the job; zero: 1.
	Replicas int `json:"replicas,omitempty"`
}

// Image says which image runs and where the provider gets it.
type Image struct {
	// Digest identifies the image: for a blob, the sha256 of the image
	// archive; for a registry reference, the manifest digest.
	Digest Digest `json:"digest"`
	// Size is the image's size in bytes (the archive, or the sum of the
	// compressed layers); providers refuse images above their limit.
	Size ByteSize `json:"size"`
	// Ref is a registry reference the provider pulls (e.g.
	// "docker.io/library/alpine:3.20"); exclusive with Blob.
	Ref string `json:"ref,omitempty"`
	// Blob says the requester serves the archive by digest on
	// /spare/blob/1.0.0; exclusive with Ref.
	Blob bool `json:"blob,omitempty"`
}

// Input is one file the requester serves by digest.
type Input struct {
	Name   string   `json:"name"` // file name under /input, no slashes
	Digest Digest   `json:"digest"`
	Size   ByteSize `json:"size"`
}

// Resources a job needs. Each zero value has the meaning in its comment.
type Resources struct {
	GPUs uint32 `json:"gpus,omitempty"` // zero: CPU-only job
	// VRAM is the least memory each granted GPU must have; zero: any.
	VRAM ByteSize `json:"vram,omitempty"`
	// CPUs in thousandths of a core ("0.5" or 500m in files); zero: 1 core.
	CPUs MilliCPU `json:"cpus,omitempty"`
	// Memory is the RAM cap; zero: 2 GiB.
	Memory ByteSize `json:"memory,omitempty"`
	// Disk is scratch plus output space; zero: none beyond the defaults
	// of the sandbox.
	Disk ByteSize `json:"disk,omitempty"`
}

// OutputBudget is the most the job may return: MaxOutput, or
// DefaultMaxOutput when it is zero.
func (s *JobSpec) OutputBudget() ByteSize {
	if s.MaxOutput > 0 {
		return s.MaxOutput
	}
	return DefaultMaxOutput
}

// DiskNeed is the disk a provider gives the job: the image (when the
// requester serves it), the inputs, and the larger of the output budget
// and Resources.Disk (scratch plus output space). It saturates rather
// than wrap.
func (s *JobSpec) DiskNeed() ByteSize {
	need := max(s.OutputBudget(), s.Resources.Disk)
	add := func(n ByteSize) {
		if n < 0 || need+n < need {
			need = math.MaxInt64
			return
		}
		need += n
	}
	if s.Image.Blob {
		add(s.Image.Size)
	}
	for _, in := range s.Inputs {
		add(in.Size)
	}
	return need
}

// WorkloadKind is the spec's kind, or the spare.kind label when the field
// is empty.
func (s *JobSpec) WorkloadKind() Kind {
	if s.Kind != "" {
		return s.Kind
	}
	return Kind(s.Labels[KindLabel])
}

// Normalize fills in defaults for zero values. Validate calls it.
func (s *JobSpec) Normalize() {
	if s.Resources.CPUs == 0 {
		s.Resources.CPUs = DefaultMilliCPU
	}
	if s.Resources.Memory == 0 {
		s.Resources.Memory = DefaultMemory
	}
	if s.MaxDuration == 0 {
		s.MaxDuration = Duration(DefaultDuration)
	}
	if s.Replicas == 0 {
		s.Replicas = 1
	}
}

// Validate normalizes s and checks every field, returning all problems
// joined; each wraps ErrInvalidSpec and names its field path.
func (s *JobSpec) Validate() error {
	s.Normalize()
	v := &checker{}
	s.check(v)
	return v.err()
}

type checker struct{ errs []error }

func (c *checker) bad(field, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: %s: %s", ErrInvalidSpec, field, fmt.Sprintf(format, args...)))
}

func (c *checker) err() error { return errors.Join(c.errs...) }

func (s *JobSpec) check(c *checker) {
	switch s.Kind {
	case "", KindRender, KindInference:
	default:
		c.bad("kind", "%q is not one of render, inference", clip(string(s.Kind)))
	}
	checkLabels(c, s.Labels)
	if k := s.Labels[KindLabel]; s.Kind == "" && k != "" && k != string(KindRender) && k != string(KindInference) {
		c.bad("labels."+KindLabel, "%q is not one of render, inference", clip(k))
	}
	s.Image.check(c)
	checkCommand(c, s.Command)
	checkEnv(c, s.Env)
	checkInputs(c, s.Inputs)
	checkOutputs(c, s.Outputs)
	if s.MaxOutput < 0 || s.MaxOutput > MaxOutputBudget {
		c.bad("max_output", "%s: want at most %s", s.MaxOutput, ByteSize(MaxOutputBudget))
	}
	s.Resources.check(c)
	d := time.Duration(s.MaxDuration)
	switch {
	case d < time.Second || d > MaxJobDuration:
		c.bad("max_duration", "%s must be between 1s and %s", d, MaxJobDuration)
	case d%time.Second != 0:
		c.bad("max_duration", "%s is not a whole number of seconds", d)
	}
	switch {
	case s.MaxPrice == 0:
		c.bad("max_price", "required: the most you pay per second in the token's smallest unit (1000 = 0.001 per second)")
	case s.MaxPrice > MaxPricePerSec:
		c.bad("max_price", "%d exceeds the ceiling %d", s.MaxPrice, MaxPricePerSec)
	}
	if s.Replicas < 1 || s.Replicas > MaxReplicas {
		c.bad("replicas", "%d must be between 1 and %d", s.Replicas, MaxReplicas)
	}
}

func (im *Image) check(c *checker) {
	if err := im.Digest.Validate(); err != nil {
		c.bad("image.digest", "%v", err)
	}
	switch {
	case im.Size <= 0:
		c.bad("image.size", "required: the image's size in bytes")
	case im.Size > MaxImageSize:
		c.bad("image.size", "%s exceeds the %s ceiling", im.Size, MaxImageSize)
	}
	switch {
	case im.Ref == "" && !im.Blob:
		c.bad("image", "say where to get it: ref (a registry reference) or blob: true (served by you)")
	case im.Ref != "" && im.Blob:
		c.bad("image", "ref and blob are exclusive")
	case im.Ref != "":
		checkRef(c, im.Ref, im.Digest)
	}
}

func checkRef(c *checker, ref string, d Digest) {
	if len(ref) > MaxRefLen {
		c.bad("image.ref", "longer than %d bytes", MaxRefLen)
		return
	}
	for _, r := range ref {
		if r <= ' ' || r >= 0x7f {
			c.bad("image.ref", "%q: only printable ASCII without spaces", clip(ref))
			return
		}
	}
	if strings.HasPrefix(ref, "/") || strings.Contains(ref, "://") {
		c.bad("image.ref", "%q: want a reference such as docker.io/library/alpine:3.20, not a path or URL", clip(ref))
		return
	}
	if _, pinned, ok := strings.Cut(ref, "@"); ok && Digest(pinned) != d {
		c.bad("image.ref", "pins %q but image.digest is %q", clip(pinned), clip(string(d)))
	}
}

func checkLabels(c *checker, labels map[string]string) {
	if len(labels) > MaxLabels {
		c.bad("labels", "%d entries, at most %d", len(labels), MaxLabels)
		return
	}
	for _, k := range sortedKeys(labels) {
		if k == "" || len(k) > MaxLabelLen || !printable(k) {
			c.bad("labels", "key %q: 1 to %d printable characters", clip(k), MaxLabelLen)
		}
		if v := labels[k]; len(v) > MaxLabelLen || !printable(v) {
			c.bad("labels."+clip(k), "at most %d printable characters", MaxLabelLen)
		}
	}
}

func checkCommand(c *checker, cmd []string) {
	if len(cmd) > MaxArgs {
		c.bad("command", "%d arguments, at most %d", len(cmd), MaxArgs)
		return
	}
	total := 0
	for i, a := range cmd {
		total += len(a)
		switch {
		case len(a) > MaxArgLen:
			c.bad(fmt.Sprintf("command[%d]", i), "longer than %d bytes", MaxArgLen)
		case strings.IndexByte(a, 0) >= 0 || !utf8.ValidString(a):
			c.bad(fmt.Sprintf("command[%d]", i), "contains NUL or invalid UTF-8")
		}
	}
	if total > MaxCommandSize {
		c.bad("command", "%d bytes in all, at most %d", total, MaxCommandSize)
	}
}

func checkEnv(c *checker, env []string) {
	if len(env) > MaxEnv {
		c.bad("env", "%d entries, at most %d", len(env), MaxEnv)
		return
	}
	seen := map[string]bool{}
	for i, e := range env {
		f := fmt.Sprintf("env[%d]", i)
		k, _, ok := strings.Cut(e, "=")
		switch {
		case len(e) > MaxEnvLen:
			c.bad(f, "longer than %d bytes", MaxEnvLen)
		case strings.IndexByte(e, 0) >= 0 || !utf8.ValidString(e):
			c.bad(f, "contains NUL or invalid UTF-8")
		case !ok || !envKey(k):
			c.bad(f, "%q: want KEY=VALUE with KEY of letters, digits and _ not starting with a digit", clip(e))
		case seen[k]:
			c.bad(f, "%s is set twice", k)
		}
		seen[k] = true
	}
}

func envKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		ok := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

func checkInputs(c *checker, in []Input) {
	if len(in) > MaxInputs {
		c.bad("inputs", "%d entries, at most %d", len(in), MaxInputs)
		return
	}
	seen := map[string]bool{}
	for i, x := range in {
		f := fmt.Sprintf("inputs[%d]", i)
		switch {
		case x.Name == "" || x.Name == "." || x.Name == ".." || len(x.Name) > MaxNameLen ||
			strings.ContainsAny(x.Name, "/\\") || !printable(x.Name):
			c.bad(f+".name", "%q: a file name of 1 to %d printable characters without slashes", clip(x.Name), MaxNameLen)
		case seen[x.Name]:
			c.bad(f+".name", "%q appears twice", x.Name)
		}
		seen[x.Name] = true
		if err := x.Digest.Validate(); err != nil {
			c.bad(f+".digest", "%v", err)
		}
		if x.Size < 0 || x.Size > MaxInputSize {
			c.bad(f+".size", "%s must be between 0 and %s", x.Size, MaxInputSize)
		}
	}
}

func checkOutputs(c *checker, out []string) {
	if len(out) > MaxOutputs {
		c.bad("outputs", "%d entries, at most %d", len(out), MaxOutputs)
		return
	}
	for i, p := range out {
		f := fmt.Sprintf("outputs[%d]", i)
		switch {
		case len(p) > MaxPathLen || !printable(p):
			c.bad(f, "at most %d printable characters", MaxPathLen)
		case !underOutput(p):
			c.bad(f, "%q: want a clean absolute path under %s", clip(p), OutputDir)
		case slices.Contains(out[:i], p):
			c.bad(f, "%q appears twice", p)
		}
	}
}

func (r *Resources) check(c *checker) {
	if r.GPUs > MaxGPUs {
		c.bad("resources.gpus", "%d exceeds the ceiling %d", r.GPUs, MaxGPUs)
	}
	switch {
	case r.VRAM < 0 || r.VRAM > MaxVRAM:
		c.bad("resources.vram", "%s exceeds the %s ceiling", r.VRAM, MaxVRAM)
	case r.VRAM > 0 && r.GPUs == 0:
		c.bad("resources.vram", "set without resources.gpus")
	}
	if r.CPUs < 1 || r.CPUs > MaxMilliCPU {
		c.bad("resources.cpus", "%s must be between 0.001 and %s cores", r.CPUs, MaxMilliCPU)
	}
	switch {
	case r.Memory > MaxMemory:
		c.bad("resources.memory", "%s exceeds the %s ceiling", r.Memory, MaxMemory)
	case r.Memory < MinMemory:
		c.bad("resources.memory", "%s is below the %s minimum", r.Memory, MinMemory)
	}
	if r.Disk < 0 || r.Disk > MaxDisk {
		c.bad("resources.disk", "%s exceeds the %s ceiling", r.Disk, MaxDisk)
	}
}

// underOutput reports whether p is a clean absolute path in OutputDir.
func underOutput(p string) bool {
	return path.Clean(p) == p && (p == OutputDir || strings.HasPrefix(p, OutputDir+"/"))
}

// printable reports whether s is valid UTF-8 without control characters
// (C0, DEL and C1).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < ' ' || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	return true
}

// clip shortens untrusted text quoted back in an error.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return strings.ToValidUTF8(s[:64], "") + "…"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
