package testimage

import (
	"bytes"
	"image/png"
	"testing"
)

func TestTextPNG(t *testing.T) {
	a, err := TextPNG("Spare 42")
	if err != nil {
		t.Fatal(err)
	}
	b, err := TextPNG("Spare 42")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the same text gave two different images")
	}
	img, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if h := img.Bounds().Dy(); h < TextHeight {
		t.Fatalf("image is %d px high, want at least %d", h, TextHeight)
	}
	if _, err := TextPNG(""); err == nil {
		t.Fatal("empty text accepted")
	}
}
