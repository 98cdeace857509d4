package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxIndexBytes bounds an archive's index, read into memory.
const maxIndexBytes = 4 << 20

// ingest reads an image archive into the content store and records one
// image per manifest, named by the manifest's digest alone (the digest is
// computed from the archive's bytes as they are stored). The names the
// archive carries are applied only when names is set (the owner's own
// archives), and never one in the digest-reference space: an archive
// cannot rebind the name of an image it does not hold. This is
// containerd's client Import with its naming replaced.
func (s *Sandbox) ingest(ctx context.Context, r io.Reader, names bool) ([]images.Image, error) {
	cs, is := s.client.ContentStore(), s.client.ImageService()
	index, err := archive.ImportIndex(ctx, cs, r)
	if err != nil {
		return nil, err
	}
	var imgs []images.Image
	var handler images.HandlerFunc = func(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		if desc.Digest != index.Digest {
			return images.Children(ctx, cs, desc)
		}
		b, err := content.ReadBlob(ctx, cs, desc)
		if err != nil {
			return nil, err
		}
		if len(b) > maxIndexBytes {
			return nil, fmt.Errorf("the archive's index is %d bytes, over %d", len(b), maxIndexBytes)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			return nil, fmt.Errorf("reading the archive's index: %w", err)
		}
		for _, m := range idx.Manifests {
			if _, ok := m.Annotations[images.AnnotationManifestSubject]; ok {
				continue // a referrer, not an image
			}
			if n := archiveName(m.Annotations); names && n != "" && !strings.HasPrefix(n, digestRefPrefix) {
				imgs = append(imgs, images.Image{Name: n, Target: m})
			}
			imgs = append(imgs, images.Image{Name: digestRefPrefix + m.Digest.String(), Target: m})
		}
		return idx.Manifests, nil
	}
	h := images.SetChildrenLabels(cs, images.FilterPlatforms(handler, platforms.Default()))
	if err := images.WalkNotEmpty(ctx, h, index); err != nil {
		return nil, err
	}
	for i, im := range imgs {
		im.Labels = map[string]string{LabelManaged: "true"}
		got, err := is.Update(ctx, im, "target", "labels")
		if errdefs.IsNotFound(err) {
			got, err = is.Create(ctx, im)
		}
		if err != nil {
			return nil, err
		}
		imgs[i] = got
	}
	return imgs, nil
}

// archiveName is the name an archive gives a manifest, if any.
func archiveName(ann map[string]string) string {
	if n := ann[images.AnnotationImageName]; n != "" {
		return n
	}
	return ann[ocispec.AnnotationRefName]
}
