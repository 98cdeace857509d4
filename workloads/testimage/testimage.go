// Package testimage makes input images for tests of the reference
// workloads, e.g. a line of text for the OCR image to read back.
package testimage

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// TextHeight is the font size, in pixels, TextPNG draws with.
const TextHeight = 48

// TextPNG renders text as one line, black on white, in the Go Regular font
// at TextHeight pixels with a margin of white around it, and returns the
// PNG. The result depends only on text.
func TextPNG(text string) ([]byte, error) {
	if text == "" {
		return nil, fmt.Errorf("text: empty")
	}
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("parsing font: %w", err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: TextHeight, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("making font face: %w", err)
	}
	defer face.Close()

	m := face.Metrics()
	margin := TextHeight / 2
	width := font.MeasureString(face, text).Ceil() + 2*margin
	height := (m.Ascent + m.Descent).Ceil() + 2*margin
	img := image.NewGray(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{
		Dst:  img,
		Src:  image.NewUniform(color.Black),
		Face: face,
		Dot:  fixed.P(margin, margin+m.Ascent.Ceil()),
	}
	d.DrawString(text)

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encoding png: %w", err)
	}
	return buf.Bytes(), nil
}
