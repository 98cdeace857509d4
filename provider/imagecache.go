package provider

import (
	"context"
	"sync"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/sandbox"
)

// maxCachedImages bounds the archive → image map (one entry per image a
// requester sent; the images themselves live in containerd).
const maxCachedImages = 256

// imageCache remembers which image archives the sandbox has imported,
// by the archive's digest: the same bytes import to the same image, so a
// requester's next job with the same archive skips the import (about a
// tenth of a second for a small image, seconds for a large one). An
// entry is used only while containerd still holds its image.
type imageCache struct {
	mu sync.Mutex
	m  map[market.Digest]string // archive digest → image manifest digest
}

// importBlob returns the image of the archive at path, whose digest is d.
func (c *imageCache) importBlob(ctx context.Context, sb *sandbox.Sandbox, d market.Digest, path string) (sandbox.Image, error) {
	c.mu.Lock()
	held, ok := c.m[d]
	c.mu.Unlock()
	if ok {
		if img, err := sb.Resolve(ctx, held); err == nil {
			return img, nil
		}
	}
	img, err := sb.Import(ctx, path, sandbox.ImportOptions{})
	if err != nil {
		return img, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedImages {
		c.m = map[market.Digest]string{}
	}
	c.m[d] = img.Digest
	c.mu.Unlock()
	return img, nil
}
