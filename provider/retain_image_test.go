//go:build linux

package provider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/sandbox"
)

// TestImageInUseNeverRemoved: with a budget of nothing, a sweep removes
// an image kept for jobs only once no container uses it, and never the
// owner's own images (spare image import). A blob pinned by a session
// and a blob owed to a requester stay as well.
func TestImageInUseNeverRemoved(t *testing.T) {
	dir := t.TempDir()
	sb := testSandbox(t, dir, "retain")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	owners, err := sb.Import(ctx, testenv.Workload(t, "probe"), sandbox.ImportOptions{Names: true})
	if err != nil {
		t.Fatal(err)
	}
	variant := filepath.Join(dir, "variant.tar")
	writeVariant(t, readArchive(t, testenv.Workload(t, "probe")), 1, variant)
	img, err := sb.Import(ctx, variant, sandbox.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.TouchCached(ctx, img.Name, time.Now()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sb.RemoveImage(context.Background(), img.Digest)
		_ = sb.RemoveImage(context.Background(), owners.Name)
	})

	store := p2p.FileStore{Dir: filepath.Join(dir, "blobs")}
	pinnedBlob, _, err := store.Put(strings.NewReader("a running job's input"), 0)
	if err != nil {
		t.Fatal(err)
	}
	owedBlob, _, err := store.Put(strings.NewReader("an output not fetched yet"), 0)
	if err != nil {
		t.Fatal(err)
	}
	looseBlob, _, err := store.Put(strings.NewReader("an input of a job long done"), 0)
	if err != nil {
		t.Fatal(err)
	}
	ret := &retainer{jobsDir: filepath.Join(dir, "provider"), store: store, images: sb, log: quietLogger(),
		owed:   func() map[p2p.Digest]bool { return map[p2p.Digest]bool{owedBlob: true} },
		budget: func(int64) int64 { return 0 }}
	ret.pin(pinnedBlob.String())

	job, err := sb.Start(ctx, sandbox.JobSpec{Image: img.Digest, Args: []string{"sleep", "5m"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = job.Stop(context.Background(), 0); _ = job.Cleanup(context.Background()) })
	rep, err := ret.sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Removed) != 1 || rep.Removed[0].Key != looseBlob.String() {
		t.Fatalf("with the job running, a sweep to nothing removed %+v; want only the loose blob", rep.Removed)
	}
	if _, err := sb.Resolve(ctx, img.Digest); err != nil {
		t.Fatalf("the running job's image was removed: %v", err)
	}
	if gone, err := sb.RemoveCached(ctx, img.Name); gone || err != nil {
		t.Fatalf("RemoveCached of the running job's image: removed %v, %v", gone, err)
	}
	for _, d := range []p2p.Digest{pinnedBlob, owedBlob} {
		if _, err := os.Stat(store.Path(d)); err != nil {
			t.Fatalf("blob %s (pinned or owed) removed: %v", d, err)
		}
	}

	if err := job.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := job.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err = ret.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rep.Removed) != 1 || rep.Removed[0].Kind != keptImage || rep.Removed[0].Key != img.Name {
		t.Fatalf("with the job gone, a sweep to nothing removed %+v; want the job's image", rep.Removed)
	}
	if _, err := sb.Resolve(ctx, img.Digest); !errors.Is(err, sandbox.ErrImageNotFound) {
		t.Fatalf("the job's image after the sweep: %v, want not found", err)
	}
	if _, err := sb.Resolve(ctx, owners.Name); err != nil {
		t.Fatalf("the owner's image was removed: %v", err)
	}
}

// TestLeftoversRemovedAtStart: what a provider that stopped left behind
// (job directories, partial fetches, Put's temporary files) is gone
// once the provider serves again; complete blobs within the budget stay.
func TestLeftoversRemovedAtStart(t *testing.T) {
	var partial, put, jobDir, blob string
	prov := startProvider(t, 1, market.WalletCredit{}, providerOption{config: func(c *Config) {
		store := p2p.FileStore{Dir: filepath.Join(c.DataDir, "blobs")}
		d, _, err := store.Put(strings.NewReader("a blob of an earlier job"), 0)
		if err != nil {
			t.Fatal(err)
		}
		blob = store.Path(d)
		partial, put = filepath.Join(store.Dir, strings.Repeat("ab", 32)+".partial"), filepath.Join(store.Dir, ".put-12345")
		jobDir = filepath.Join(c.DataDir, "provider", "0123456789abcdef0123456789abcdef")
		for _, f := range []string{partial, put, filepath.Join(jobDir, "output", "frame.bmp"), filepath.Join(jobDir, "input", "scene.pov")} {
			if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, make([]byte, 4096), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}})
	for _, p := range []string{partial, put, jobDir} {
		testenv.WaitFor(t, p+", left by an earlier run, removed", 10*time.Second, func() bool {
			_, err := os.Stat(p)
			return errors.Is(err, os.ErrNotExist)
		})
	}
	if _, err := os.Stat(blob); err != nil {
		t.Errorf("a complete blob within the budget was removed: %v", err)
	}
	_ = prov
}
