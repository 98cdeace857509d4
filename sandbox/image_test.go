//go:build linux

package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparegpu/spare/imagebuild"
)

func TestImportRejects(t *testing.T) {
	sb, good := testSandbox(t)
	ctx := context.Background()
	archive, err := probeArchive()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.tar")
	if err := os.WriteFile(corrupt, bytes.Repeat([]byte("not a tar"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	// Tamper with an image whose blobs containerd has never seen: a known
	// blob is taken from the store by digest and the archive's copy ignored.
	tampered := filepath.Join(dir, "tampered.tar")
	writeTampered(t, uniqueArchive(t), tampered)

	cases := []struct {
		name   string
		path   string
		opt    ImportOptions
		limits ImageLimits
		want   error
		says   string
	}{
		{"missing file", filepath.Join(dir, "nope.tar"), ImportOptions{}, ImageLimits{}, ErrBadArchive, "no such file"},
		{"corrupt archive", corrupt, ImportOptions{}, ImageLimits{}, ErrBadArchive, corrupt},
		{"tampered blob", tampered, ImportOptions{}, ImageLimits{}, ErrBadArchive, "digest"},
		{"digest mismatch", archive, ImportOptions{Digest: "sha256:" + strings.Repeat("ab", 32)}, ImageLimits{}, ErrDigestMismatch, good.Digest},
		{"bad digest syntax", archive, ImportOptions{Digest: "md5:1234"}, ImageLimits{}, nil, "sha256:<64 hex digits>"},
		{"archive too large", archive, ImportOptions{}, ImageLimits{ArchiveBytes: 1 << 10}, ErrImageTooLarge, "1 KiB limit"},
		{"layer too large", archive, ImportOptions{}, ImageLimits{LayerBytes: 1 << 10}, ErrImageTooLarge, "layer 0"},
		{"unpacks too large", archive, ImportOptions{}, ImageLimits{UnpackedBytes: 1 << 20}, ErrImageTooLarge, "unpack"},
	}
	// Remove the probe image so a rejected import is seen to leave nothing.
	if err := sb.RemoveImage(ctx, good.Digest); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sb.cfg.ImageLimits = c.limits
			defer func() { sb.cfg.ImageLimits = ImageLimits{} }()
			_, err := sb.Import(ctx, c.path, c.opt)
			if err == nil {
				t.Fatal("import succeeded")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
			if got := imageNames(t, sb); len(got) != 0 {
				t.Errorf("rejected import left images %v", got)
			}
		})
	}
	if _, err := sb.Import(ctx, archive, ImportOptions{Digest: good.Digest}); err != nil {
		t.Fatalf("import with the right digest: %v", err)
	}
}

func TestImageListAndRemove(t *testing.T) {
	sb, img := testSandbox(t)
	ctx := context.Background()
	names := imageNames(t, sb)
	if len(names) != 2 || names[0] != "spare.local/image@"+img.Digest && names[1] != "spare.local/image@"+img.Digest {
		t.Fatalf("images %v, want the archive's name and the digest reference", names)
	}
	got, err := sb.Resolve(ctx, img.Digest)
	if err != nil || got.Digest != img.Digest {
		t.Fatalf("resolve by digest: %v, %v", got, err)
	}
	if err := sb.RemoveImage(ctx, "spare.local/probe:test"); err != nil {
		t.Fatal(err)
	}
	if n := imageNames(t, sb); len(n) != 0 {
		t.Errorf("removing the last name left %v", n)
	}
	if _, err := sb.Resolve(ctx, img.Digest); !errors.Is(err, ErrImageNotFound) {
		t.Errorf("resolve after remove: %v, want ErrImageNotFound", err)
	}
}

// uniqueArchive builds a small image no other test has imported.
func uniqueArchive(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// Random, so the layer does not compress and is the largest blob.
	b := make([]byte, 64<<10)
	_, _ = rand.Read(b)
	if err := os.WriteFile(filepath.Join(root, "unique"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "unique.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := imagebuild.Build(context.Background(), imagebuild.Config{Rootfs: root, Ref: "spare.local/unique:1"}, f); err != nil {
		t.Fatal(err)
	}
	return path
}

func imageNames(t *testing.T, sb *Sandbox) []string {
	t.Helper()
	imgs, err := sb.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, im := range imgs {
		out = append(out, im.Name)
	}
	return out
}

// writeTampered copies an OCI archive, flipping a byte in its largest blob
// (the layer), so its content no longer matches its digest.
func writeTampered(t *testing.T, src, dst string) {
	t.Helper()
	entries := readTar(t, src)
	largest := 0
	for i, e := range entries {
		if len(e.b) > len(entries[largest].b) {
			largest = i
		}
	}
	entries[largest].b[len(entries[largest].b)/2] ^= 0xff
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	for _, e := range entries {
		if err := tw.WriteHeader(e.h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// tarEntry is one file of an archive, in order.
type tarEntry struct {
	h *tar.Header
	b []byte
}

// readTar reads a whole tar archive into memory.
func readTar(t *testing.T, path string) []tarEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tarEntry
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{h, b})
	}
}
