package workloads_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/workloads/testimage"
)

var names = []string{"probe", "render", "ocr"}

var (
	scratch   string // removed after the tests
	buildOnce sync.Once
	builtDir  string
	buildLog  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if scratch != "" {
		os.RemoveAll(scratch)
	}
	os.Exit(code)
}

// runBuild runs build.sh into dir and returns its log.
func runBuild(dir string, env ...string) (string, error) {
	cmd := exec.Command("bash", "build.sh", dir)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("build.sh %s: %w\n%s", dir, err, out)
	}
	return string(out), nil
}

// built returns a directory holding freshly built images (the first call
// builds them, once for all tests).
func built(t *testing.T) string {
	t.Helper()
	for _, tool := range []struct{ cmd, pkg string }{{"mmdebstrap", "mmdebstrap"}, {"npm", "npm"}, {"gcc", "gcc"}, {"go", "golang"}} {
		testenv.NeedCommand(t, tool.cmd, tool.pkg)
	}
	buildOnce.Do(func() {
		scratch, buildErr = os.MkdirTemp("", "spare-workloads-test-")
		if buildErr != nil {
			return
		}
		builtDir = filepath.Join(scratch, "a")
		buildLog, buildErr = runBuild(builtDir, "REFRESH=1")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtDir
}

func digest(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".digest"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestBuildIsReproducibleAndCached(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every image twice")
	}
	a := built(t)
	b := filepath.Join(scratch, "b")
	if _, err := runBuild(b, "REFRESH=1"); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if da, db := digest(t, a, n), digest(t, b, n); da != db || !strings.HasPrefix(da, "sha256:") {
			t.Errorf("%s: two builds gave %s and %s", n, da, db)
		}
	}

	start := time.Now()
	log, err := runBuild(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(log, n+": up to date") {
			t.Errorf("%s was rebuilt with unchanged inputs:\n%s", n, log)
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a build with everything cached took %v", d)
	}
}

// image reads an archive written by build.sh: its config and its layer's
// entries; with dir set, it also extracts the layer there.
func image(t *testing.T, archive, dir string) (ocispec.Image, map[string]*tar.Header) {
	t.Helper()
	blobs := map[string][]byte{}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			blobs[hdr.Name] = b
		}
	}
	var index ocispec.Index
	var manifest ocispec.Manifest
	var config ocispec.Image
	path := func(d ocispec.Descriptor) string { return "blobs/sha256/" + d.Digest.Encoded() }
	if err := json.Unmarshal(blobs["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %v (%d manifests)", err, len(index.Manifests))
	}
	if err := json.Unmarshal(blobs[path(index.Manifests[0])], &manifest); err != nil || len(manifest.Layers) != 1 {
		t.Fatalf("manifest: %v", err)
	}
	if err := json.Unmarshal(blobs[path(manifest.Config)], &config); err != nil {
		t.Fatalf("config: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blobs[path(manifest.Layers[0])]))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]*tar.Header{}
	lr := tar.NewReader(zr)
	for {
		hdr, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[strings.TrimSuffix(hdr.Name, "/")] = hdr
		if dir != "" {
			extract(t, dir, hdr, lr)
		}
	}
	return config, entries
}

func extract(t *testing.T, dir string, hdr *tar.Header, r io.Reader) {
	t.Helper()
	p := filepath.Join(dir, hdr.Name)
	var err error
	switch hdr.Typeflag {
	case tar.TypeDir:
		err = os.MkdirAll(p, 0o755)
	case tar.TypeSymlink:
		err = os.Symlink(hdr.Linkname, p)
	case tar.TypeLink:
		err = os.Link(filepath.Join(dir, hdr.Linkname), p)
	case tar.TypeReg:
		var b []byte
		if b, err = io.ReadAll(r); err == nil {
			err = os.WriteFile(p, b, os.FileMode(hdr.Mode)&0o777)
		}
	}
	if err != nil {
		t.Fatalf("extracting %s: %v", hdr.Name, err)
	}
}

func TestProbeImage(t *testing.T) {
	config, entries := image(t, filepath.Join(built(t), "probe.tar"), "")
	if got := strings.Join(config.Config.Entrypoint, " "); got != "/probe" {
		t.Errorf("entrypoint %q, want /probe", got)
	}
	if config.Config.User != "" {
		t.Errorf("image sets user %q; the sandbox chooses it", config.Config.User)
	}
	suid := entries["usr/local/bin/suid-id"]
	if suid == nil || suid.Mode != 0o4755 || suid.Uid != 0 || suid.Gid != 0 {
		t.Errorf("usr/local/bin/suid-id is %+v, want mode 4755 owned by 0:0", suid)
	}
	if entries["probe"] == nil || entries["probe"].Mode != 0o755 {
		t.Errorf("no executable /probe")
	}
}

func TestRenderImage(t *testing.T) {
	config, entries := image(t, filepath.Join(built(t), "render.tar"), "")
	if got := strings.Join(config.Config.Entrypoint, " "); got != "/opt/render/render.sh" {
		t.Errorf("entrypoint %q", got)
	}
	for _, p := range []string{"usr/bin/povray", "usr/bin/dash", "opt/render/scene.pov", "etc/povray/3.7/povray.conf",
		"usr/share/povray-3.7/include/colors.inc", "lib64", "usr/lib/x86_64-linux-gnu/libc.so.6"} {
		if entries[p] == nil {
			t.Errorf("render image lacks /%s", p)
		}
	}
}

// TestOCRReadsRenderedText runs the OCR image's program on this host with
// the image's own loader and libraries, on lines drawn by testimage.
func TestOCRReadsRenderedText(t *testing.T) {
	root := t.TempDir()
	image(t, filepath.Join(built(t), "ocr.tar"), root)
	in, out := t.TempDir(), t.TempDir()
	lines := map[string]string{
		"a": "Spare rents idle GPUs",
		"b": "Hello, World! 0123456789",
		"c": "The quick brown fox jumps over the lazy dog",
	}
	for name, text := range lines {
		png, err := testimage.TextPNG(text)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	libs := filepath.Join(root, "usr/lib/x86_64-linux-gnu")
	cmd := exec.Command(filepath.Join(libs, "ld-linux-x86-64.so.2"), "--library-path", libs,
		filepath.Join(root, "usr/local/bin/ocr"), "-in", in, "-out", out,
		"-lib", filepath.Join(root, "usr/lib/onnxruntime/libonnxruntime.so.1"),
		"-model", filepath.Join(root, "opt/ocr/ch_PP-OCRv4_rec_infer.onnx"),
		"-keys", filepath.Join(root, "opt/ocr/ppocr_keys_v1.txt"))
	stdout, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("ocr: %v\n%s%s", err, stdout, stderr)
	}
	for name, want := range lines {
		got, err := os.ReadFile(filepath.Join(out, name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want+"\n" {
			t.Errorf("%s.png: read %q, want %q", name, got, want)
		}
	}
}
