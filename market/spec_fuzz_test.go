package market

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeSpec checks that any input either decodes to a spec that
// validates and hashes stably, or fails with ErrInvalidSpec; never a panic.
func FuzzDecodeSpec(f *testing.F) {
	for _, name := range []string{"render.yaml", "render.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte(`{"image":{"digest":"`+digestA+`","size":"1G","ref":"alpine@`+digestA+`"},"max_price":1}`), true)
	f.Add([]byte("a: &a [*a, *a]\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		f := FormatYAML
		if asJSON {
			f = FormatJSON
		}
		s, err := DecodeSpec(data, f)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("error without ErrInvalidSpec: %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("decoded spec fails Validate: %v", err)
		}
		// The hash is canonical: the spec written out and read back hashes the same.
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeSpec(b, FormatJSON)
		if err != nil {
			t.Fatalf("a valid spec does not read back: %v\n%s", err, b)
		}
		if again.JobHash() != s.JobHash() {
			t.Fatalf("JobHash changed across a round trip:\n%s", b)
		}
	})
}
