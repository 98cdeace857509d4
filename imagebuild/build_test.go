package imagebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/sparegpu/spare/internal/testenv"
)

// makeTree writes a small root filesystem with every kind of entry Build
// handles and returns its path.
func makeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "tmp"), 0o755))
	must(os.Chmod(filepath.Join(root, "tmp"), os.ModeSticky|0o777))
	must(os.WriteFile(filepath.Join(root, "usr/bin/tool"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(os.WriteFile(filepath.Join(root, "usr/bin/suid"), []byte("suid"), 0o755))
	must(os.Chmod(filepath.Join(root, "usr/bin/suid"), os.ModeSetuid|0o755))
	must(os.Link(filepath.Join(root, "usr/bin/tool"), filepath.Join(root, "usr/bin/tool-hardlink")))
	must(os.Symlink("usr/bin", filepath.Join(root, "bin")))
	must(os.WriteFile(filepath.Join(root, "etc"), []byte("not a dir"), 0o600))
	return root
}

func build(t *testing.T, cfg Config) (Result, []byte) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Build(context.Background(), cfg, &buf)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if res.Size != int64(buf.Len()) {
		t.Fatalf("Result.Size = %d, archive has %d bytes", res.Size, buf.Len())
	}
	return res, buf.Bytes()
}

func TestBuildIsReproducible(t *testing.T) {
	root := makeTree(t)
	cfg := Config{Rootfs: root, Ref: "spare.local/test:1", Entrypoint: []string{"/usr/bin/tool"}}
	first, firstBytes := build(t, cfg)
	second, secondBytes := build(t, cfg)
	if first.Digest != second.Digest || !bytes.Equal(firstBytes, secondBytes) {
		t.Fatalf("two builds differ: %s vs %s", first.Digest, second.Digest)
	}

	// New times on every entry, as a fresh checkout or rebuild would give.
	later := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, later, later)
	})
	if err != nil {
		t.Fatal(err)
	}
	third, _ := build(t, cfg)
	if third.Digest != first.Digest {
		t.Fatalf("digest changed with mtimes: %s vs %s", first.Digest, third.Digest)
	}

	// The digest does depend on contents and config.
	if err := os.WriteFile(filepath.Join(root, "usr/bin/tool"), []byte("changed"), 0o755); err != nil {
		t.Fatal(err)
	}
	if changed, _ := build(t, cfg); changed.Digest == first.Digest {
		t.Fatal("digest did not change with a file's contents")
	}
	cfg.Cmd = []string{"x"}
	if changed, _ := build(t, cfg); changed.Digest == first.Digest {
		t.Fatal("digest did not change with the config")
	}
}

// archive reads an image archive into name → contents.
func archive(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[hdr.Name] = data
		}
	}
}

func blobPath(d fmt.Stringer) string {
	return "blobs/" + strings.Replace(d.String(), ":", "/", 1)
}

func TestBuildWritesLayout(t *testing.T) {
	root := makeTree(t)
	cfg := Config{
		Rootfs:     root,
		Ref:        "spare.local/test:2",
		Entrypoint: []string{"/usr/bin/tool"},
		Cmd:        []string{"a"},
		Env:        []string{"PATH=/usr/bin"},
		WorkingDir: "/tmp",
		User:       "65534:65534",
		Labels:     map[string]string{"org.example": "yes"},
	}
	res, b := build(t, cfg)
	files := archive(t, b)

	var index ocispec.Index
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	if _, ok := files["oci-layout"]; !ok {
		t.Fatal("no oci-layout file")
	}
	if len(index.Manifests) != 1 {
		t.Fatalf("index has %d manifests", len(index.Manifests))
	}
	md := index.Manifests[0]
	if md.Digest.String() != res.Digest {
		t.Fatalf("index names %s, Build returned %s", md.Digest, res.Digest)
	}
	for _, k := range []string{ocispec.AnnotationRefName, AnnotationImageName} {
		if md.Annotations[k] != cfg.Ref {
			t.Errorf("annotation %s = %q, want %q", k, md.Annotations[k], cfg.Ref)
		}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(files[blobPath(md.Digest)], &m); err != nil {
		t.Fatal(err)
	}
	configJSON := files[blobPath(m.Config.Digest)]
	if bytes.Contains(configJSON, []byte("created")) || bytes.Contains(configJSON, []byte("history")) {
		t.Errorf("config carries a time or history: %s", configJSON)
	}
	var img ocispec.Image
	if err := json.Unmarshal(configJSON, &img); err != nil {
		t.Fatal(err)
	}
	if img.OS != "linux" || img.Architecture != "amd64" || img.Config.User != cfg.User ||
		img.Config.WorkingDir != "/tmp" || img.Config.Labels["org.example"] != "yes" ||
		len(img.Config.Env) != 1 || img.Config.Entrypoint[0] != "/usr/bin/tool" {
		t.Errorf("config does not carry Config's fields: %s", configJSON)
	}

	zr, err := gzip.NewReader(bytes.NewReader(files[blobPath(m.Layers[0].Digest)]))
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		typ  byte
		mode int64
		link string
	}
	want := map[string]entry{
		"bin":                   {tar.TypeSymlink, 0o777, "usr/bin"},
		"etc":                   {tar.TypeReg, 0o600, ""},
		"tmp/":                  {tar.TypeDir, 0o1777, ""},
		"usr/":                  {tar.TypeDir, 0o755, ""},
		"usr/bin/":              {tar.TypeDir, 0o755, ""},
		"usr/bin/suid":          {tar.TypeReg, 0o4755, ""},
		"usr/bin/tool":          {tar.TypeReg, 0o755, ""},
		"usr/bin/tool-hardlink": {tar.TypeLink, 0o755, "usr/bin/tool"},
	}
	var names []string
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		w, ok := want[hdr.Name]
		if !ok {
			t.Errorf("unexpected entry %q", hdr.Name)
			continue
		}
		if hdr.Typeflag != w.typ || hdr.Mode != w.mode || hdr.Linkname != w.link {
			t.Errorf("%s: type %c mode %o link %q, want %c %o %q", hdr.Name, hdr.Typeflag, hdr.Mode, hdr.Linkname, w.typ, w.mode, w.link)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || !hdr.ModTime.Equal(epoch) {
			t.Errorf("%s: owner %d:%d %q, mtime %v; want 0:0, epoch", hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.ModTime)
		}
	}
	if got := strings.Join(names, " "); got != "bin etc tmp/ usr/ usr/bin/ usr/bin/suid usr/bin/tool usr/bin/tool-hardlink" {
		t.Errorf("entries in order %s", got)
	}
}

func TestBuildSkipsDeviceNodes(t *testing.T) {
	testenv.NeedRoot(t)
	root := makeTree(t)
	cfg := Config{Rootfs: root, Ref: "spare.local/test:3"}
	before, _ := build(t, cfg)
	if err := syscall.Mknod(filepath.Join(root, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatalf("mknod: %v", err)
	}
	after, _ := build(t, cfg)
	if before.Digest != after.Digest {
		t.Fatal("a device node made it into the image")
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := Config{Rootfs: dir, Ref: "spare.local/x:1"}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no rootfs", func(c *Config) { c.Rootfs = "" }, "Rootfs"},
		{"missing rootfs", func(c *Config) { c.Rootfs = filepath.Join(dir, "nope") }, "Rootfs"},
		{"rootfs is a file", func(c *Config) { c.Rootfs = file }, "Rootfs"},
		{"no ref", func(c *Config) { c.Ref = "" }, "Ref"},
		{"ref with space", func(c *Config) { c.Ref = "a b" }, "Ref"},
		{"env without =", func(c *Config) { c.Env = []string{"A=1", "B"} }, "Env[1]"},
		{"relative workdir", func(c *Config) { c.WorkingDir = "tmp" }, "WorkingDir"},
		{"bad platform", func(c *Config) { c.Platform = "amd64" }, "Platform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			_, err := Build(context.Background(), cfg, io.Discard)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("error %v, want ErrInvalidConfig naming %s", err, tc.field)
			}
		})
	}
}

func TestArchiveImportsIntoContainerd(t *testing.T) {
	sock := testenv.ContainerdSocket(t)
	root := makeTree(t)
	ref := "spare.local/imagebuild-test:1"
	res, b := build(t, Config{Rootfs: root, Ref: ref, Entrypoint: []string{"/usr/bin/tool"}})

	c, err := client.New(sock)
	if err != nil {
		t.Fatalf("connecting to containerd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	ns := fmt.Sprintf("spare-imagebuild-test-%d", os.Getpid())
	ctx := namespaces.WithNamespace(context.Background(), ns)
	t.Cleanup(func() {
		if err := c.ImageService().Delete(ctx, ref, images.SynchronousDelete()); err != nil {
			t.Errorf("removing the test image: %v", err)
		}
		if err := c.NamespaceService().Delete(ctx, ns); err != nil {
			t.Errorf("removing namespace %s: %v", ns, err)
		}
	})

	imgs, err := c.Import(ctx, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("importing: %v", err)
	}
	if len(imgs) != 1 || imgs[0].Name != ref {
		t.Fatalf("imported %+v, want one image named %s", imgs, ref)
	}
	if got := imgs[0].Target.Digest.String(); got != res.Digest {
		t.Fatalf("containerd's target digest %s, Build returned %s", got, res.Digest)
	}
	// containerd can read the manifest, config and layer it stored.
	img := client.NewImage(c, imgs[0])
	if err := img.Unpack(ctx, ""); err != nil {
		t.Fatalf("unpacking: %v", err)
	}
	if _, err := img.Config(ctx); err != nil {
		t.Fatalf("reading config: %v", err)
	}
}
