//go:build linux && cgo

package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCTCDecode(t *testing.T) {
	keys := []string{"", "a", "b", " "}
	// Steps: a a blank a b b space b → "aab b" after merging repeats.
	best := []int{1, 1, 0, 1, 2, 2, 3, 2}
	probs := make([]float32, len(best)*len(keys))
	for s, c := range best {
		probs[s*len(keys)+c] = 0.5
	}
	text, conf := ctcDecode(probs, len(best), len(keys), keys)
	if text != "aab b" || conf != 0.5 {
		t.Fatalf("decoded %q (%v), want \"aab b\" (0.5)", text, conf)
	}
	if text, _ := ctcDecode(make([]float32, 3*len(keys)), 3, len(keys), keys); text != "" {
		t.Fatalf("all blanks decoded to %q", text)
	}
}

func TestLoadKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(p, []byte("x\ny\r\nz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := loadKeys(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "x", "y", "z", " "}
	if len(keys) != len(want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("keys %q, want %q", keys, want)
		}
	}
}
