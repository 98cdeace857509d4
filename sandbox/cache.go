package sandbox

import (
	"context"
	"fmt"
	"strconv"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
)

// Labels of an image kept for jobs (see TouchCached).
const (
	LabelCached   = "io.spare.cached"    // "true": RemoveCached may remove it
	LabelLastUsed = "io.spare.last-used" // unix seconds of its last use
)

// CachedImage is an image kept for jobs: a requester's image imported or
// pulled for its job, kept in case its next job brings the same one.
type CachedImage struct {
	// Name is the image record's name (for an archive, its digest
	// reference).
	Name   string
	Digest string
	// Size is what it takes on disk: its content and its unpacked
	// snapshots (layers another image shares are counted with each).
	Size int64
	// Used is its last use (TouchCached), or its record's last change.
	Used time.Time
	// InUse says a container (a job, running or not yet removed) was
	// made from it: RemoveCached leaves it alone.
	InUse bool
}

// TouchCached marks the image record name (as Import or Pull returned it)
// an image kept for jobs, last used at now: CachedImages lists it and
// RemoveCached may remove it. Names the owner gave an image (spare image
// import) are other records and are never marked.
func (s *Sandbox) TouchCached(ctx context.Context, name string, now time.Time) error {
	ctx = s.ns(ctx)
	is := s.client.ImageService()
	img, err := is.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("marking image %s kept for jobs: %w", name, err)
	}
	if img.Labels == nil {
		img.Labels = map[string]string{}
	}
	img.Labels[LabelCached] = "true"
	img.Labels[LabelLastUsed] = strconv.FormatInt(now.Unix(), 10)
	if _, err := is.Update(ctx, img, "labels."+LabelCached, "labels."+LabelLastUsed); err != nil {
		return fmt.Errorf("marking image %s kept for jobs: %w", name, err)
	}
	return nil
}

// CachedImages lists the images kept for jobs (TouchCached).
func (s *Sandbox) CachedImages(ctx context.Context) ([]CachedImage, error) {
	ctx = s.ns(ctx)
	list, err := s.client.ImageService().List(ctx, `labels."`+LabelCached+`"==true`)
	if err != nil {
		return nil, fmt.Errorf("listing images kept for jobs: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	inUse, err := s.imagesInUse(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]CachedImage, 0, len(list))
	for _, im := range list {
		size, err := containerd.NewImage(s.client, im).Usage(ctx, containerd.WithSnapshotUsage())
		if err != nil {
			return nil, fmt.Errorf("sizing image %s: %w", im.Name, err)
		}
		used := im.UpdatedAt
		if sec, err := strconv.ParseInt(im.Labels[LabelLastUsed], 10, 64); err == nil {
			used = time.Unix(sec, 0)
		}
		out = append(out, CachedImage{Name: im.Name, Digest: im.Target.Digest.String(), Size: size, Used: used,
			InUse: inUse[im.Name] || inUse[im.Target.Digest.String()]})
	}
	return out, nil
}

// imagesInUse names the images (by name and by manifest digest) that
// containers in the namespace were made from.
func (s *Sandbox) imagesInUse(ctx context.Context) (map[string]bool, error) {
	cs, err := s.client.ContainerService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	inUse := map[string]bool{}
	for _, c := range cs {
		if c.Image == "" {
			continue
		}
		inUse[c.Image] = true
		if im, err := s.client.ImageService().Get(ctx, c.Image); err == nil {
			inUse[im.Target.Digest.String()] = true
		}
	}
	return inUse, nil
}

// RemoveCached removes the image record name if it is kept for jobs
// (TouchCached) and no container was made from it, and lets containerd
// collect its content and snapshots at once (those another image still
// uses stay). It reports whether it removed it.
func (s *Sandbox) RemoveCached(ctx context.Context, name string) (bool, error) {
	ctx = s.ns(ctx)
	is := s.client.ImageService()
	im, err := is.Get(ctx, name)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up image %s: %w", name, err)
	}
	if im.Labels[LabelCached] != "true" {
		return false, nil
	}
	inUse, err := s.imagesInUse(ctx)
	if err != nil {
		return false, err
	}
	if inUse[im.Name] || inUse[im.Target.Digest.String()] {
		return false, nil
	}
	if err := is.Delete(ctx, name, images.SynchronousDelete()); err != nil && !isNotFound(err) {
		return false, fmt.Errorf("removing image %s: %w", name, err)
	}
	return true, nil
}

// ContentSize is the bytes of the content (image layers, configs,
// manifests) containerd holds in the sandbox's namespace.
func (s *Sandbox) ContentSize(ctx context.Context) (int64, error) {
	ctx = s.ns(ctx)
	var n int64
	err := s.client.ContentStore().Walk(ctx, func(info content.Info) error {
		n += info.Size
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("walking content: %w", err)
	}
	return n, nil
}
