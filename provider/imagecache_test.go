//go:build linux

package provider

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
)

// TestImageCache: an archive is imported once; the next job with the
// same archive does not read it again, unless containerd lost the image.
func TestImageCache(t *testing.T) {
	dir := t.TempDir()
	sb := testSandbox(t, dir, "imgcache")
	store := p2p.FileStore{Dir: filepath.Join(dir, "blobs")}
	d, _, err := market.PutFile(store, testenv.Workload(t, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	dg, err := p2p.ParseDigest(string(d))
	if err != nil {
		t.Fatal(err)
	}
	path := store.Path(dg)
	ctx := context.Background()
	var c imageCache
	first, err := c.importBlob(ctx, sb, d, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.RemoveImage(context.Background(), first.Digest) })
	if err := os.Rename(path, path+".away"); err != nil {
		t.Fatal(err)
	}
	again, err := c.importBlob(ctx, sb, d, path)
	if err != nil || again.Digest != first.Digest {
		t.Fatalf("second import read the archive again or failed: %+v %v", again, err)
	}
	if err := sb.RemoveImage(ctx, first.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := c.importBlob(ctx, sb, d, path); err == nil {
		t.Fatal("an image containerd no longer holds was taken from the cache")
	}
	if err := os.Rename(path+".away", path); err != nil {
		t.Fatal(err)
	}
	back, err := c.importBlob(ctx, sb, d, path)
	if err != nil || back.Digest != first.Digest {
		t.Fatalf("re-import: %+v %v", back, err)
	}
}
