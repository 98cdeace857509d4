//go:build linux

package provider

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/sparegpu/spare/internal/testenv"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
)

// retainJobs is how many jobs TestDiskStaysBounded runs (a job takes
// about a second and a half here, so not hundreds). Each brings an image
// of its own (the probe plus a layer of fillerBytes nobody else has), an
// input of its own and an output: without retention each job leaves
// about 3.6 MB in DATA/blobs and its 1 MiB layer in containerd, so the
// growth shows within a few dozen jobs.
const (
	retainJobs  = 32
	fillerBytes = 1 << 20
	retainCache = 4 << 20 // the provider's cache budget in the test
)

// TestDiskStaysBounded runs retainJobs paid jobs, each with a distinct
// image, input and output, and checks that the provider's data directory
// and containerd's content store stay bounded by the cache budget
// instead of growing with every job: job directories go when their
// session closes, blobs and images least-recently-used past the budget.
func TestDiskStaysBounded(t *testing.T) {
	prov := startProvider(t, 1, market.WalletCredit{}, providerOption{config: func(c *Config) { c.Cache = retainCache }})
	req := testRequester(t)
	connect(t, req, prov)
	sb := prov.prov.cfg.Sandbox
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	probe := readArchive(t, testenv.Workload(t, "probe"))
	out := t.TempDir()
	work := t.TempDir()
	start := time.Now()
	var peakData, peakContent int64
	for i := range retainJobs {
		img := filepath.Join(work, "image.tar")
		writeVariant(t, probe, i, img)
		spec := archiveSpec(t, req, img, "write", "/output/done")
		in := filepath.Join(work, "input")
		if err := os.WriteFile(in, randomBytes(t, 16<<10), 0o600); err != nil {
			t.Fatal(err)
		}
		d, n, err := market.PutFile(req.Blobs, in)
		if err != nil {
			t.Fatal(err)
		}
		spec.Inputs = []market.Input{{Name: "data", Digest: d, Size: n}}
		res, err := req.Submit(ctx, spec, market.SubmitOptions{OutputDir: out, Discovery: 10 * time.Second, MaxAttempts: 1})
		if err != nil || res.ExitCode != 0 || len(res.Outputs) != 1 {
			t.Fatalf("job %d: %+v, %v", i, res, err)
		}
		// The requester's own copies are not what is measured.
		for _, dg := range []market.Digest{spec.Image.Digest, d} {
			pd, _ := p2p.ParseDigest(string(dg))
			_ = req.Blobs.Remove(pd)
		}
		testenv.WaitFor(t, "the provider free for the next job", 30*time.Second, prov.prov.idle)
		if i%4 == 3 {
			data := diskUse(t, prov.dir)
			content, err := sb.ContentSize(ctx)
			if err != nil {
				t.Fatal(err)
			}
			peakData, peakContent = max(peakData, data), max(peakContent, content)
			t.Logf("after %d jobs (%v): data dir %.1f MiB (blobs %.1f MiB, job dirs %.1f MiB), containerd content %.1f MiB",
				i+1, time.Since(start).Round(time.Second), mib(data), mib(diskUse(t, filepath.Join(prov.dir, "blobs"))),
				mib(diskUse(t, filepath.Join(prov.dir, "provider"))), mib(content))
		}
	}
	// The cache may hold its budget plus what the last job still used
	// (its image archive, its image until its container is gone); the
	// rest of the data directory (wallet, keys, settings) is small.
	// Without retention the data directory holds retainJobs × 3.6 MB
	// (about 110 MiB) and the content store the probe's 2.5 MiB and
	// retainJobs × 1 MiB.
	const dataBound, contentBound = retainCache + 16<<20, retainCache + 8<<20
	if peakData > dataBound || peakContent > contentBound {
		t.Fatalf("after %d jobs: data dir peaked at %.1f MiB (want at most %.0f), containerd content at %.1f MiB (want at most %.0f)",
			retainJobs, mib(peakData), mib(dataBound), mib(peakContent), mib(contentBound))
	}
	if ents, _ := os.ReadDir(filepath.Join(prov.dir, "provider")); len(ents) != 0 {
		t.Fatalf("%d job directories left after every job settled", len(ents))
	}
	t.Logf("%d jobs in %v: data dir peaked at %.1f MiB, containerd content at %.1f MiB",
		retainJobs, time.Since(start).Round(time.Second), mib(peakData), mib(peakContent))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// diskUse is the disk the files under dir take (allocated blocks), as du
// counts it; a directory that does not exist takes none.
func diskUse(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while walking
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return n
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// ociArchive is an OCI image-layout archive read into memory.
type ociArchive struct {
	files map[string][]byte // by path in the archive
	order []string
}

func readArchive(t *testing.T, path string) *ociArchive {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &ociArchive{files: map[string][]byte{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return a
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		a.files[h.Name] = b
		a.order = append(a.order, h.Name)
	}
}

func blobPath(d digest.Digest) string { return "blobs/sha256/" + d.Encoded() }

// writeVariant writes base with one more layer, a file of random bytes
// named after n, to path: an image no other job has.
func writeVariant(t *testing.T, base *ociArchive, n int, path string) {
	t.Helper()
	var idx ocispec.Index
	mustJSON(t, base.files["index.json"], &idx)
	var mf ocispec.Manifest
	mustJSON(t, base.files[blobPath(idx.Manifests[0].Digest)], &mf)
	var cfg map[string]any
	mustJSON(t, base.files[blobPath(mf.Config.Digest)], &cfg)

	var layerTar bytes.Buffer
	tw := tar.NewWriter(&layerTar)
	filler := randomBytes(t, fillerBytes)
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("filler-%d", n), Mode: 0o644, Size: int64(len(filler)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(filler); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var layerGz bytes.Buffer
	zw := gzip.NewWriter(&layerGz)
	if _, err := zw.Write(layerTar.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	extra := map[string][]byte{}
	put := func(mediaType string, b []byte) ocispec.Descriptor {
		d := digest.FromBytes(b)
		extra[blobPath(d)] = b
		return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
	}
	layer := put(ocispec.MediaTypeImageLayerGzip, layerGz.Bytes())
	rootfs := cfg["rootfs"].(map[string]any)
	rootfs["diff_ids"] = append(rootfs["diff_ids"].([]any), digest.FromBytes(layerTar.Bytes()).String())
	mf.Config = put(ocispec.MediaTypeImageConfig, toJSON(t, cfg))
	mf.Layers = append(mf.Layers, layer)
	md := put(ocispec.MediaTypeImageManifest, toJSON(t, mf))
	md.Platform = idx.Manifests[0].Platform
	idx.Manifests = []ocispec.Descriptor{md}

	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw = tar.NewWriter(f)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range base.order {
		if name != "index.json" {
			add(name, base.files[name])
		}
	}
	for name, b := range extra {
		add(name, b)
	}
	add("index.json", toJSON(t, idx))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, strings.TrimSpace(string(b[:min(len(b), 80)])))
	}
}

func toJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
