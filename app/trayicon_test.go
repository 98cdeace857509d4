package app

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/sparegpu/spare/assets"
)

// TestTrayIcons: each state's icon is a PNG the tray can decode, with
// something drawn on a transparent ground, and no two states look alike.
func TestTrayIcons(t *testing.T) {
	seen := map[string]assets.TrayState{}
	for _, s := range assets.States {
		r, err := trayResource(s)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(r.Content()))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if img.Bounds() != image.Rect(0, 0, trayIconPx, trayIconPx) {
			t.Fatalf("%s: %v", s, img.Bounds())
		}
		var opaque, clear int
		for y := 0; y < trayIconPx; y++ {
			for x := 0; x < trayIconPx; x++ {
				switch _, _, _, a := img.At(x, y).RGBA(); a {
				case 0xffff:
					opaque++
				case 0:
					clear++
				}
			}
		}
		if opaque < trayIconPx*trayIconPx/10 || clear == 0 {
			t.Errorf("%s: %d opaque and %d transparent pixels of %d", s, opaque, clear, trayIconPx*trayIconPx)
		}
		if other, ok := seen[string(r.Content())]; ok {
			t.Errorf("%s looks like %s", s, other)
		}
		seen[string(r.Content())] = s
	}
}
