//go:build linux && cgo

// Command ocr reads the text on single-line images with the PaddleOCR v4
// recognition network under ONNX Runtime. It is the entrypoint of Spare's
// OCR reference image:
//
//	ocr [-in /input] [-out /output] [-lib FILE] [-model FILE] [-keys FILE] [-threads N]
//
// Every .png, .jpg and .jpeg file in -in (sorted by name) is read and its
// text written to -out/<name>.txt (the text, then a newline); one JSON line
// per image goes to stdout: {"file":…,"text":…,"confidence":…}. The exit
// status is 1 when an image could not be read, or when there was none.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Where the image keeps its parts.
const (
	defaultLib   = "/usr/lib/onnxruntime/libonnxruntime.so.1"
	defaultModel = "/opt/ocr/ch_PP-OCRv4_rec_infer.onnx"
	defaultKeys  = "/opt/ocr/ppocr_keys_v1.txt"
)

type options struct {
	in, out, lib, model, keys string
	threads                   int
}

func main() {
	var o options
	flag.StringVar(&o.in, "in", "/input", "directory of images to read")
	flag.StringVar(&o.out, "out", "/output", "directory to write <name>.txt files to")
	flag.StringVar(&o.lib, "lib", defaultLib, "ONNX Runtime shared library")
	flag.StringVar(&o.model, "model", defaultModel, "PaddleOCR recognition model (ONNX)")
	flag.StringVar(&o.keys, "keys", defaultKeys, "character list of the model, one per line")
	flag.IntVar(&o.threads, "threads", 1, "inference threads (0: ONNX Runtime decides)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "ocr")
	if err := run(context.Background(), o, log); err != nil {
		log.Error("ocr failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, log *slog.Logger) error {
	files, err := images(o.in)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no .png or .jpg images in %s", o.in)
	}
	keys, err := loadKeys(o.keys)
	if err != nil {
		return err
	}
	rec, err := newRecognizer(o.lib, o.model, keys, o.threads)
	if err != nil {
		return err
	}
	defer rec.Close()

	var failed []string
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		text, conf, err := recognizeFile(rec, filepath.Join(o.in, f))
		if err != nil {
			log.Error("reading image", "file", f, "err", err)
			failed = append(failed, f)
			continue
		}
		name := strings.TrimSuffix(f, filepath.Ext(f)) + ".txt"
		if err := os.WriteFile(filepath.Join(o.out, name), []byte(text+"\n"), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		if err := enc.Encode(map[string]any{"file": f, "text": text, "confidence": conf}); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d images failed: %s", len(failed), len(files), strings.Join(failed, ", "))
	}
	return nil
}

// images lists the image files in dir by name.
func images(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing inputs: %w", err)
	}
	var names []string
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".jpg", ".jpeg":
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

func recognizeFile(rec *recognizer, path string) (string, float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	img, err := decode(f)
	if err != nil {
		return "", 0, err
	}
	return rec.Recognize(img)
}

// loadKeys reads the model's character list. Class 0 of the network is
// the CTC blank, classes 1…n are the lines of the file, and class n+1 is a
// space (PaddleOCR's use_space_char).
func loadKeys(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading character list: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return nil, errors.New("character list is empty")
	}
	keys := make([]string, 0, len(lines)+2)
	keys = append(keys, "") // blank
	for _, l := range lines {
		keys = append(keys, strings.TrimRight(l, "\r"))
	}
	return append(keys, " "), nil
}
