// Package imagebuild writes reproducible single-layer OCI image archives from
// a root filesystem directory.
//
// The same tree gives the same manifest digest, whoever builds it and when:
// entries are written depth first in bytewise name order, every time is the
// Unix epoch, owners are 0:0 (unless Config.KeepOwners), permission, setuid,
// setgid and sticky bits are kept, extended attributes are dropped, the layer
// is gzip-compressed with an empty header, and the image config carries no
// timestamps or history. Device nodes and sockets are skipped with a warning.
// Digests are stable for a given Go toolchain (its compress/flate output).
//
// The archive is an OCI image layout in a tar stream (oci-layout, index.json,
// blobs/sha256/…) that `ctr images import` and containerd's Go client import
// under the name Config.Ref.
package imagebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// AnnotationImageName is the index annotation containerd reads to name an
// imported image.
const AnnotationImageName = "io.containerd.image.name"

// DefaultPlatform is the platform of an image whose Config.Platform is empty.
const DefaultPlatform = "linux/amd64"

// ErrInvalidConfig is wrapped by every error Build returns for a bad Config.
var ErrInvalidConfig = errors.New("invalid image config")

// Config describes an image built from a root filesystem directory.
type Config struct {
	// Rootfs is the directory whose contents become the image's single
	// layer. Required.
	Rootfs string
	// Ref is the image name stored in the archive, e.g.
	// "spare.local/render:1". Required.
	Ref string
	// Entrypoint, Cmd, Env ("KEY=value"), WorkingDir and User ("uid:gid")
	// go into the image config as given; empty means unset.
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	// Labels go into the image config; nil means none.
	Labels map[string]string
	// Platform is "os/arch" or "os/arch/variant"; empty means
	// DefaultPlatform.
	Platform string
	// KeepOwners keeps each file's numeric uid and gid from Rootfs instead
	// of writing 0:0. Use it only for trees built as root whose owners
	// matter (the owners then become part of what the digest depends on).
	KeepOwners bool
	// Logger receives warnings about skipped files; nil means slog.Default().
	Logger *slog.Logger
}

// Result describes a written archive.
type Result struct {
	Digest string // manifest digest, "sha256:…"
	Size   int64  // archive bytes written
}

var platformRE = regexp.MustCompile(`^[a-z0-9_]+/[a-z0-9_]+(/[a-z0-9_]+)?$`)

// validate checks cfg and returns it with defaults filled in.
func (cfg Config) validate() (Config, error) {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
	if cfg.Rootfs == "" {
		return cfg, bad("Rootfs", "required")
	}
	fi, err := os.Stat(cfg.Rootfs)
	if err != nil {
		return cfg, bad("Rootfs", "%v", err)
	}
	if !fi.IsDir() {
		return cfg, bad("Rootfs", "%s is not a directory", cfg.Rootfs)
	}
	if cfg.Ref == "" {
		return cfg, bad("Ref", "required")
	}
	if strings.ContainsAny(cfg.Ref, " \t\n@") || strings.HasPrefix(cfg.Ref, "/") || strings.HasSuffix(cfg.Ref, ":") {
		return cfg, bad("Ref", "%q is not an image name like spare.local/name:tag", cfg.Ref)
	}
	for i, e := range cfg.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return cfg, bad(fmt.Sprintf("Env[%d]", i), "%q is not KEY=value", e)
		}
	}
	if cfg.WorkingDir != "" && !strings.HasPrefix(cfg.WorkingDir, "/") {
		return cfg, bad("WorkingDir", "%q is not an absolute path", cfg.WorkingDir)
	}
	if strings.ContainsAny(cfg.User, " \t\n") {
		return cfg, bad("User", "%q contains white space", cfg.User)
	}
	for k := range cfg.Labels {
		if k == "" {
			return cfg, bad("Labels", "empty key")
		}
	}
	if cfg.Platform == "" {
		cfg.Platform = DefaultPlatform
	}
	if !platformRE.MatchString(cfg.Platform) {
		return cfg, bad("Platform", "%q is not os/arch[/variant]", cfg.Platform)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

// Build writes an OCI image-layout archive of cfg.Rootfs to out. index.json
// annotates the manifest with org.opencontainers.image.ref.name and
// io.containerd.image.name, both set to cfg.Ref.
func Build(ctx context.Context, cfg Config, out io.Writer) (Result, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return Result{}, err
	}
	log := cfg.Logger.With("component", "imagebuild", "ref", cfg.Ref)

	// The layer goes to a temporary file first: its digest and size must be
	// known before the manifest, and its bytes are needed after.
	tmp, err := os.CreateTemp("", "spare-layer-*.tar.gz")
	if err != nil {
		return Result{}, fmt.Errorf("creating layer file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	layer, diffID, skipped, err := compressLayer(ctx, cfg, log, tmp)
	if err != nil {
		return Result{}, err
	}
	if skipped > 0 {
		log.Warn("special files left out of the image", "count", skipped)
	}

	osArch := strings.Split(cfg.Platform, "/")
	platform := ocispec.Platform{OS: osArch[0], Architecture: osArch[1]}
	if len(osArch) == 3 {
		platform.Variant = osArch[2]
	}
	img := ocispec.Image{
		Platform: platform,
		Config: ocispec.ImageConfig{
			User:       cfg.User,
			Env:        cfg.Env,
			Entrypoint: cfg.Entrypoint,
			Cmd:        cfg.Cmd,
			WorkingDir: cfg.WorkingDir,
			Labels:     cfg.Labels,
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
	}
	configJSON, configDesc, err := blob(ocispec.MediaTypeImageConfig, img)
	if err != nil {
		return Result{}, fmt.Errorf("encoding image config: %w", err)
	}
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layer},
	}
	manifestJSON, manifestDesc, err := blob(ocispec.MediaTypeImageManifest, manifest)
	if err != nil {
		return Result{}, fmt.Errorf("encoding manifest: %w", err)
	}
	manifestDesc.Platform = &platform
	manifestDesc.Annotations = map[string]string{
		ocispec.AnnotationRefName: cfg.Ref,
		AnnotationImageName:       cfg.Ref,
	}
	index := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{manifestDesc},
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return Result{}, fmt.Errorf("encoding index: %w", err)
	}
	layoutJSON, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return Result{}, fmt.Errorf("encoding oci-layout: %w", err)
	}

	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("rewinding layer file: %w", err)
	}
	cw := &countingWriter{w: out}
	if err := writeArchive(cw, layoutJSON, indexJSON, []archiveBlob{
		{configDesc, bytes.NewReader(configJSON)},
		{layer, tmp},
		{manifestDesc, bytes.NewReader(manifestJSON)},
	}); err != nil {
		return Result{}, fmt.Errorf("writing archive: %w", err)
	}
	res := Result{Digest: manifestDesc.Digest.String(), Size: cw.n}
	log.Debug("image built", "digest", res.Digest, "bytes", res.Size, "layer_bytes", layer.Size)
	return res, nil
}

// compressLayer writes the gzip-compressed layer of cfg.Rootfs to w and
// returns its descriptor and the digest of the uncompressed tar.
func compressLayer(ctx context.Context, cfg Config, log *slog.Logger, w io.Writer) (ocispec.Descriptor, digest.Digest, int, error) {
	zsum := sha256.New()
	zw := &countingWriter{w: io.MultiWriter(w, zsum)}
	gz, err := gzip.NewWriterLevel(zw, gzip.DefaultCompression)
	if err != nil {
		return ocispec.Descriptor{}, "", 0, err
	}
	tsum := sha256.New()
	skipped, err := writeLayer(ctx, cfg.Rootfs, cfg.KeepOwners, log, io.MultiWriter(gz, tsum))
	if err != nil {
		return ocispec.Descriptor{}, "", 0, fmt.Errorf("writing layer: %w", err)
	}
	if err := gz.Close(); err != nil {
		return ocispec.Descriptor{}, "", 0, fmt.Errorf("compressing layer: %w", err)
	}
	desc := ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageLayerGzip,
		Digest:    sum(zsum),
		Size:      zw.n,
	}
	return desc, sum(tsum), skipped, nil
}

type archiveBlob struct {
	desc ocispec.Descriptor
	r    io.Reader
}

// writeArchive writes the image layout as a tar stream: oci-layout,
// index.json, then the blobs in digest order.
func writeArchive(w io.Writer, layoutJSON, indexJSON []byte, blobs []archiveBlob) error {
	tw := tar.NewWriter(w)
	file := func(name string, size int64, r io.Reader) error {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if n != size {
			return fmt.Errorf("%s: wrote %d of %d bytes", name, n, size)
		}
		return nil
	}
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
	}
	if err := file(ocispec.ImageLayoutFile, int64(len(layoutJSON)), bytes.NewReader(layoutJSON)); err != nil {
		return err
	}
	if err := file("index.json", int64(len(indexJSON)), bytes.NewReader(indexJSON)); err != nil {
		return err
	}
	if err := dir("blobs/"); err != nil {
		return err
	}
	if err := dir("blobs/sha256/"); err != nil {
		return err
	}
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].desc.Digest < blobs[j].desc.Digest })
	for _, b := range blobs {
		name := "blobs/" + b.desc.Digest.Algorithm().String() + "/" + b.desc.Digest.Encoded()
		if err := file(name, b.desc.Size, b.r); err != nil {
			return err
		}
	}
	return tw.Close()
}

// blob encodes v as JSON and describes the bytes.
func blob(mediaType string, v any) ([]byte, ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return b, ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}, nil
}

func sum(h hash.Hash) digest.Digest {
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil)))
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
