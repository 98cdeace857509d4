package market

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Format is a spec file's encoding.
type Format int

// Spec file formats. FormatAuto picks YAML unless the data starts with '{'.
const (
	FormatAuto Format = iota
	FormatJSON
	FormatYAML
)

// DecodeSpec parses a job spec in the given format, rejecting unknown
// fields, trailing data and specs larger than MaxSpecSize, and validates
// it. Every error wraps ErrInvalidSpec.
func DecodeSpec(data []byte, f Format) (*JobSpec, error) {
	if len(data) > MaxSpecSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidSpec, len(data), MaxSpecSize)
	}
	if f == FormatAuto {
		f = FormatYAML
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
			f = FormatJSON
		}
	}
	if f == FormatYAML {
		j, err := yamlToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
		}
		data = j
	}
	var s JobSpec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidSpec, jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the spec", ErrInvalidSpec)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// DecodeSpecFile reads a spec from a .json, .yaml or .yml file.
func DecodeSpecFile(path string) (*JobSpec, error) {
	f := FormatAuto
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		f = FormatJSON
	case ".yaml", ".yml":
		f = FormatYAML
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading job spec: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxSpecSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading job spec: %w", err)
	}
	s, err := DecodeSpec(data, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// yamlToJSON turns one YAML document into JSON so that both formats share
// the strict JSON decoder. Keys must be strings; a second document is
// refused.
func yamlToJSON(data []byte) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, errors.New("empty document")
		}
		msg := strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "yaml: ")), " ")
		if len(msg) > 200 {
			msg = strings.ToValidUTF8(msg[:200], "") + "…"
		}
		return nil, fmt.Errorf("yaml: %s", msg)
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, errors.New("more than one YAML document")
	}
	v, err := jsonable(v, 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func jsonable(v any, depth int) (any, error) {
	if depth > 16 {
		return nil, errors.New("nested too deeply")
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			y, err := jsonable(x, depth+1)
			if err != nil {
				return nil, err
			}
			t[k] = y
		}
		return t, nil
	case map[any]any:
		return nil, errors.New("mapping keys must be strings")
	case []any:
		for i, x := range t {
			y, err := jsonable(x, depth+1)
			if err != nil {
				return nil, err
			}
			t[i] = y
		}
		return t, nil
	case string, bool, int, int64, uint64, float64, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unsupported YAML value of type %T", v)
}

// jsonError rewords decoder errors so they name the field path.
func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%s: cannot be a JSON %s", te.Field, te.Value)
	}
	s := strings.TrimPrefix(err.Error(), "json: ")
	return clip(s)
}

// Hash is a sha256 digest.
type Hash [32]byte

// String is the hash in hex with a 0x prefix, as Ethereum tools print it.
func (h Hash) String() string { return fmt.Sprintf("%#x", h[:]) }

// jobHashDomain separates job hashes from any other sha256 use.
const jobHashDomain = "spare/jobspec/v1\n"

// JobHash is the canonical sha256 of the validated spec: the domain string
// followed by the spec's JSON in Go's field order, with maps sorted by key,
// sizes as integers, CPUs as millicores and durations as seconds. Two
// specs that mean the same thing after defaults hash the same; the
// Agreement carries it. s must have passed Validate.
func (s *JobSpec) JobHash() Hash {
	c := *s
	c.Normalize()
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	b, err := json.Marshal(&c)
	if err != nil {
		// Only plain types are inside; Marshal cannot fail.
		panic(fmt.Sprintf("market: encoding job spec: %v", err))
	}
	h := sha256.New()
	h.Write([]byte(jobHashDomain))
	h.Write(b)
	var out Hash
	h.Sum(out[:0])
	return out
}
