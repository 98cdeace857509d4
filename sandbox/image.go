package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sparegpu/spare/internal/units"
)

// Errors of image handling. Each error returned wraps one of these.
var (
	ErrImageTooLarge  = errors.New("image too large")
	ErrDigestMismatch = errors.New("image digest mismatch")
	ErrImageNotFound  = errors.New("image not found")
	ErrBadArchive     = errors.New("bad image archive")
)

// ImageLimits bound the images Import accepts. Zero fields take defaults.
type ImageLimits struct {
	// ArchiveBytes caps the archive file. Zero: 16 GiB.
	ArchiveBytes int64
	// LayerBytes caps one layer, compressed. Zero: 8 GiB.
	LayerBytes int64
	// UnpackedBytes caps the sum of all layers once decompressed, which
	// guards against decompression bombs. Zero: 32 GiB.
	UnpackedBytes int64
}

func (l ImageLimits) withDefaults() ImageLimits {
	if l.ArchiveBytes == 0 {
		l.ArchiveBytes = 16 << 30
	}
	if l.LayerBytes == 0 {
		l.LayerBytes = 8 << 30
	}
	if l.UnpackedBytes == 0 {
		l.UnpackedBytes = 32 << 30
	}
	return l
}

// digestRefPrefix names the image record kept for every imported manifest,
// so a job can name an image by digest alone.
const digestRefPrefix = LocalRefPrefix + "image@"

// Image describes an image in Spare's containerd namespace.
type Image struct {
	Name    string    `json:"name"`
	Digest  string    `json:"digest"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
}

// ImportOptions tune Import.
type ImportOptions struct {
	// Digest, when set ("sha256:…"), must equal the imported manifest's
	// digest; otherwise the import is undone and ErrDigestMismatch returned.
	Digest string
	// Progress, when set, is called with bytes read so far and the total.
	Progress func(done, total int64)
	// Names applies the names the archive gives its images (the owner's
	// own archives: spare image import, spare run). Without it the image
	// is known by its digest alone: an archive from a stranger names
	// nothing, so it cannot rebind the name of another image.
	Names bool
}

// Import loads an OCI image-layout or Docker archive, checks it against
// the size limits and the expected digest, and unpacks it. On any error
// nothing it created is left behind.
func (s *Sandbox) Import(ctx context.Context, path string, opt ImportOptions) (Image, error) {
	ctx = s.ns(ctx)
	lim := s.cfg.ImageLimits.withDefaults()
	if opt.Digest != "" {
		if _, err := digest.Parse(opt.Digest); err != nil {
			return Image{}, fmt.Errorf("image digest %q: %w (want sha256:<64 hex digits>)", opt.Digest, err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return Image{}, fmt.Errorf("%w: %v", ErrBadArchive, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Image{}, fmt.Errorf("%w: %v", ErrBadArchive, err)
	}
	if fi.IsDir() {
		return Image{}, fmt.Errorf("%w: %s is a directory; want an image archive (.tar)", ErrBadArchive, path)
	}
	if fi.Size() > lim.ArchiveBytes {
		return Image{}, fmt.Errorf("%w: archive %s is %s, over the %s limit", ErrImageTooLarge, path, units.FormatBytes(fi.Size()), units.FormatBytes(lim.ArchiveBytes))
	}
	r := &progressReader{r: io.LimitReader(f, lim.ArchiveBytes+1), total: fi.Size(), fn: opt.Progress}

	ctx, done, err := s.client.WithLease(ctx)
	if err != nil {
		return Image{}, fmt.Errorf("importing %s: %w", path, err)
	}
	defer done(context.WithoutCancel(ctx))

	imgs, err := s.ingest(ctx, r, opt.Names)
	if err != nil {
		return Image{}, fmt.Errorf("%w: %s: %v", ErrBadArchive, path, err)
	}
	if len(imgs) == 0 {
		return Image{}, fmt.Errorf("%w: %s holds no image for %s", ErrBadArchive, path, platforms.DefaultString())
	}
	undo := func() {
		for _, im := range imgs {
			_ = s.client.ImageService().Delete(context.WithoutCancel(ctx), im.Name)
		}
	}
	chosen := imgs[0]
	for _, im := range imgs {
		if !strings.HasPrefix(im.Name, digestRefPrefix) {
			chosen = im
			break
		}
	}
	if opt.Digest != "" && chosen.Target.Digest.String() != opt.Digest {
		undo()
		return Image{}, fmt.Errorf("%w: %s holds %s, the job names %s", ErrDigestMismatch, path, chosen.Target.Digest, opt.Digest)
	}
	img := containerd.NewImage(s.client, chosen)
	if err := s.checkLayers(ctx, img, lim); err != nil {
		undo()
		return Image{}, err
	}
	if err := img.Unpack(ctx, ""); err != nil {
		undo()
		return Image{}, fmt.Errorf("%w: unpacking %s: %v", ErrBadArchive, path, err)
	}
	return s.describe(ctx, img)
}

// checkLayers enforces the per-layer and unpacked size limits by reading
// each layer through its decompressor, stopping at the limit.
func (s *Sandbox) checkLayers(ctx context.Context, img containerd.Image, lim ImageLimits) error {
	manifest, err := images.Manifest(ctx, s.client.ContentStore(), img.Target(), platforms.Default())
	if err != nil {
		return fmt.Errorf("%w: reading manifest: %v", ErrBadArchive, err)
	}
	var unpacked int64
	for i, l := range manifest.Layers {
		if l.Size > lim.LayerBytes {
			return fmt.Errorf("%w: layer %d is %s, over the %s limit", ErrImageTooLarge, i, units.FormatBytes(l.Size), units.FormatBytes(lim.LayerBytes))
		}
		n, err := unpackedSize(ctx, s.client.ContentStore(), l, lim.UnpackedBytes-unpacked+1)
		if err != nil {
			return fmt.Errorf("%w: layer %d: %v", ErrBadArchive, i, err)
		}
		unpacked += n
		if unpacked > lim.UnpackedBytes {
			return fmt.Errorf("%w: layers unpack to more than the %s limit", ErrImageTooLarge, units.FormatBytes(lim.UnpackedBytes))
		}
	}
	return nil
}

// unpackedSize counts a layer's decompressed bytes, reading at most max.
func unpackedSize(ctx context.Context, cs content.Store, desc ocispec.Descriptor, max int64) (int64, error) {
	ra, err := cs.ReaderAt(ctx, desc)
	if err != nil {
		return 0, err
	}
	defer ra.Close()
	d, err := compression.DecompressStream(content.NewReader(ra))
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return io.Copy(io.Discard, io.LimitReader(d, max))
}

// LocalRefPrefix starts the names of images that exist only locally
// (built by `spare image build`); they are never pulled.
const LocalRefPrefix = "spare.local/"

// Pull fetches ref from a registry this host can reach and unpacks it.
func (s *Sandbox) Pull(ctx context.Context, ref string, opt ImportOptions) (Image, error) {
	ctx = s.ns(ctx)
	if strings.HasPrefix(ref, LocalRefPrefix) {
		return Image{}, fmt.Errorf("%w: %s is a local image name — import its archive first (spare image import FILE.tar)", ErrImageNotFound, ref)
	}
	img, err := s.client.Pull(ctx, ref, containerd.WithPullUnpack,
		containerd.WithPullLabels(map[string]string{LabelManaged: "true"}))
	if err != nil {
		return Image{}, fmt.Errorf("pulling %s: %w", ref, err)
	}
	if opt.Digest != "" && img.Target().Digest.String() != opt.Digest {
		_ = s.client.ImageService().Delete(ctx, img.Name())
		return Image{}, fmt.Errorf("%w: %s is %s, the job names %s", ErrDigestMismatch, ref, img.Target().Digest, opt.Digest)
	}
	return s.describe(ctx, img)
}

// Resolve finds an image in the store by name, by digest ("sha256:…") or
// by its digest reference.
func (s *Sandbox) Resolve(ctx context.Context, ref string) (Image, error) {
	ctx = s.ns(ctx)
	img, err := s.lookup(ctx, ref)
	if err != nil {
		return Image{}, err
	}
	return s.describe(ctx, img)
}

func (s *Sandbox) lookup(ctx context.Context, ref string) (containerd.Image, error) {
	name := ref
	if strings.HasPrefix(ref, "sha256:") {
		name = digestRefPrefix + ref
	}
	img, err := s.client.GetImage(ctx, name)
	if err == nil {
		return img, nil
	}
	if isNotFound(err) {
		return nil, fmt.Errorf("%w: %s — import it first (spare image import FILE.tar)", ErrImageNotFound, ref)
	}
	return nil, fmt.Errorf("looking up image %s: %w", ref, err)
}

// Images lists the images in Spare's namespace, digest references last.
func (s *Sandbox) Images(ctx context.Context) ([]Image, error) {
	ctx = s.ns(ctx)
	list, err := s.client.ListImages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	out := make([]Image, 0, len(list))
	for _, img := range list {
		im, err := s.describe(ctx, img)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, nil
}

// RemoveImage deletes an image by name or digest. A digest removes every
// name pointing at it; the digest reference goes with the last name.
func (s *Sandbox) RemoveImage(ctx context.Context, ref string) error {
	ctx = s.ns(ctx)
	img, err := s.lookup(ctx, ref)
	if err != nil {
		return err
	}
	target := img.Target().Digest
	digestRef := digestRefPrefix + target.String()
	byDigest := img.Name() == digestRef
	list, err := s.client.ListImages(ctx)
	if err != nil {
		return fmt.Errorf("listing images: %w", err)
	}
	remaining := 0
	for _, o := range list {
		if o.Target().Digest != target || o.Name() == digestRef {
			continue
		}
		if !byDigest && o.Name() != img.Name() {
			remaining++
			continue
		}
		if err := s.client.ImageService().Delete(ctx, o.Name()); err != nil && !isNotFound(err) {
			return fmt.Errorf("removing %s: %w", o.Name(), err)
		}
	}
	if remaining == 0 {
		if err := s.client.ImageService().Delete(ctx, digestRef); err != nil && !isNotFound(err) {
			return fmt.Errorf("removing %s: %w", digestRef, err)
		}
	}
	return nil
}

func (s *Sandbox) describe(ctx context.Context, img containerd.Image) (Image, error) {
	size, err := img.Size(ctx)
	if err != nil {
		return Image{}, fmt.Errorf("sizing image %s: %w", img.Name(), err)
	}
	return Image{Name: img.Name(), Digest: img.Target().Digest.String(), Size: size, Created: img.Metadata().CreatedAt}, nil
}

// progressReader reports bytes read at most every 200 ms.
type progressReader struct {
	r     io.Reader
	n     int64
	total int64
	fn    func(done, total int64)
	last  time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.fn != nil && (err != nil || time.Since(p.last) > 200*time.Millisecond) {
		p.last = time.Now()
		p.fn(p.n, p.total)
	}
	return n, err
}
