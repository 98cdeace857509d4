package main

import (
	"os"
	"testing"

	"github.com/sparegpu/spare/workloads/testimage"
)

func writeTextPNG(t testing.TB, path, text string) {
	t.Helper()
	b, err := testimage.TextPNG(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
