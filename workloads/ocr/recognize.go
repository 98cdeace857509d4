//go:build linux && cgo

package main

import (
	"bufio"
	"fmt"
	"image"
	_ "image/jpeg" // inputs may be JPEG
	_ "image/png"
	"io"
	"math"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/image/draw"
)

// inputHeight is the height PaddleOCR's v4 recogniser takes (its
// rec_image_shape is 3×48×W).
const inputHeight = 48

// recognizer runs the recognition network on single text lines.
type recognizer struct {
	session *ort.DynamicAdvancedSession
	keys    []string
}

func newRecognizer(lib, model string, keys []string, threads int) (*recognizer, error) {
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return nil, fmt.Errorf("loading ONNX Runtime from %s: %w", lib, err)
	}
	ins, outs, err := ort.GetInputOutputInfo(model)
	if err != nil {
		ort.DestroyEnvironment()
		return nil, fmt.Errorf("reading model %s: %w", model, err)
	}
	if len(ins) != 1 || len(outs) != 1 {
		ort.DestroyEnvironment()
		return nil, fmt.Errorf("model %s has %d inputs and %d outputs, want 1 and 1", model, len(ins), len(outs))
	}
	if n := outs[0].Dimensions; len(n) != 3 || (n[2] > 0 && int(n[2]) != len(keys)) {
		ort.DestroyEnvironment()
		return nil, fmt.Errorf("model %s outputs %v, want [batch, steps, %d classes] for the character list", model, n, len(keys))
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		ort.DestroyEnvironment()
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			ort.DestroyEnvironment()
			return nil, fmt.Errorf("setting threads: %w", err)
		}
		if err := opts.SetInterOpNumThreads(1); err != nil {
			ort.DestroyEnvironment()
			return nil, fmt.Errorf("setting threads: %w", err)
		}
	}
	s, err := ort.NewDynamicAdvancedSession(model, []string{ins[0].Name}, []string{outs[0].Name}, opts)
	if err != nil {
		ort.DestroyEnvironment()
		return nil, fmt.Errorf("loading model %s: %w", model, err)
	}
	return &recognizer{session: s, keys: keys}, nil
}

func (r *recognizer) Close() {
	r.session.Destroy()
	ort.DestroyEnvironment()
}

// Recognize returns the text on img and the mean probability of its
// characters.
func (r *recognizer) Recognize(img image.Image) (string, float32, error) {
	data, width := preprocess(img)
	in, err := ort.NewTensor(ort.NewShape(1, 3, inputHeight, int64(width)), data)
	if err != nil {
		return "", 0, fmt.Errorf("input tensor: %w", err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil}
	if err := r.session.Run([]ort.Value{in}, outs); err != nil {
		return "", 0, fmt.Errorf("running the network: %w", err)
	}
	defer outs[0].Destroy()
	out, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return "", 0, fmt.Errorf("network output is %T, want float32 tensor", outs[0])
	}
	shape := out.GetShape()
	if len(shape) != 3 || int(shape[2]) != len(r.keys) {
		return "", 0, fmt.Errorf("network output shape %v, want [1, steps, %d]", shape, len(r.keys))
	}
	text, conf := ctcDecode(out.GetData(), int(shape[1]), len(r.keys), r.keys)
	return text, conf, nil
}

// ctcDecode is CTC's greedy decoding: the most likely class at each step,
// repeats merged, blanks (class 0) dropped.
func ctcDecode(probs []float32, steps, classes int, keys []string) (string, float32) {
	var b strings.Builder
	var sum float32
	n := 0
	prev := -1
	for t := 0; t < steps; t++ {
		row := probs[t*classes : (t+1)*classes]
		best := 0
		for c := 1; c < classes; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		if best != 0 && best != prev {
			b.WriteString(keys[best])
			sum += row[best]
			n++
		}
		prev = best
	}
	if n == 0 {
		return "", 0
	}
	return strings.TrimSpace(b.String()), sum / float32(n)
}

func decode(r io.Reader) (image.Image, error) {
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("decoding image: %w", err)
	}
	return img, nil
}

// preprocess crops img to its text (the area that differs from the corner
// colour, with a margin), scales it to inputHeight keeping the aspect ratio,
// and returns it as a CHW float tensor in BGR order normalised to [-1, 1],
// as PaddleOCR's resize_norm_img does.
func preprocess(img image.Image) ([]float32, int) {
	src := trim(img)
	b := src.Bounds()
	width := int(math.Ceil(float64(inputHeight) * float64(b.Dx()) / float64(b.Dy())))
	width = max(width, inputHeight/4)
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Bounds(), src, b.Min, draw.Src)

	plane := width * inputHeight
	data := make([]float32, 3*plane)
	sx := float64(b.Dx()) / float64(width)
	sy := float64(b.Dy()) / float64(inputHeight)
	for y := 0; y < inputHeight; y++ {
		y0, y1, fy := sample(y, sy, b.Dy())
		for x := 0; x < width; x++ {
			x0, x1, fx := sample(x, sx, b.Dx())
			p := y*width + x
			for c, off := range [3]int{2, 1, 0} { // B, G, R planes
				v := lerp(lerp(px(rgba, x0, y0, off), px(rgba, x1, y0, off), fx),
					lerp(px(rgba, x0, y1, off), px(rgba, x1, y1, off), fx), fy)
				data[c*plane+p] = (v/255 - 0.5) / 0.5
			}
		}
	}
	return data, width
}

// sample maps destination pixel i to the two source pixels around it and
// the weight of the second, with pixel centres aligned (OpenCV's
// INTER_LINEAR, which PaddleOCR resizes with: no smoothing).
func sample(i int, scale float64, n int) (int, int, float32) {
	f := (float64(i)+0.5)*scale - 0.5
	f = max(f, 0)
	i0 := min(int(f), n-1)
	i1 := min(i0+1, n-1)
	return i0, i1, float32(f - float64(i0))
}

func px(img *image.RGBA, x, y, channel int) float32 {
	return float32(img.Pix[img.PixOffset(x, y)+channel])
}

func lerp(a, b, t float32) float32 { return a + (b-a)*t }

// trim returns the part of img whose pixels differ from its top-left
// corner's, grown by a sixth of its height on each side (as a text
// detector's box would be); the whole image when nothing differs.
func trim(img image.Image) image.Image {
	b := img.Bounds()
	lum := func(x, y int) int {
		r, g, bl, _ := img.At(x, y).RGBA()
		return int((299*r + 587*g + 114*bl) / 1000 >> 8)
	}
	bg := lum(b.Min.X, b.Min.Y)
	box := image.Rectangle{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if d := lum(x, y) - bg; d > 64 || d < -64 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if box.Empty() {
		return img
	}
	pad := box.Dy() / 6
	box = image.Rect(box.Min.X-pad, box.Min.Y-pad, box.Max.X+pad, box.Max.Y+pad).Intersect(b)
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return img
	}
	return sub.SubImage(box)
}
