package market

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sparegpu/spare/p2p"
)

// TestProgressReportsTransfers: a blob a provider fetches from the
// requester is reported as an upload up to its full size, an output the
// requester fetches as a download, and a source no longer served (Submit
// returned) serves nothing.
func TestProgressReportsTransfers(t *testing.T) {
	req, prov, provStore := outputPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []Progress
	report := func(p Progress) { mu.Lock(); got = append(got, p); mu.Unlock() }
	last := func(s Stage) (Progress, int) {
		mu.Lock()
		defer mu.Unlock()
		var l Progress
		c := 0
		for _, p := range got {
			if p.Stage == s {
				l, c = p, c+1
			}
		}
		return l, c
	}

	reqStore := p2p.FileStore{Dir: filepath.Join(t.TempDir(), "req-blobs")}
	d, n, err := reqStore.Put(bytes.NewReader(bytes.Repeat([]byte("x"), 3<<20)), 0)
	if err != nil {
		t.Fatal(err)
	}
	src := &progressSource{BlobSource: reqStore, report: report}
	req.Host.ServeBlobs(src)
	req.Host.GrantBlob(prov.ID(), d, time.Hour)
	if err := prov.FetchBlobTo(ctx, req.Host.ID(), d, io.Discard, p2p.FetchOptions{MaxSize: n}); err != nil {
		t.Fatal(err)
	}
	if p, c := last(StageUploading); p.Done != n || p.Total != n || p.Name != d.String() || c < 2 {
		t.Errorf("last upload report %+v of %d, want %d of %d bytes of %s, reported as it goes", p, c, n, n, d)
	}
	req.Host.StopServing(src)
	if err := prov.FetchBlobTo(ctx, req.Host.ID(), d, io.Discard, p2p.FetchOptions{MaxSize: n}); err == nil {
		t.Error("a source no longer served still served its blob")
	}

	od, on, err := provStore.Put(bytes.NewReader(bytes.Repeat([]byte("y"), 1<<20)), 0)
	if err != nil {
		t.Fatal(err)
	}
	prov.GrantBlob(req.Host.ID(), od, time.Hour)
	res := &Result{JobID: newJobID(), Outputs: []Output{{Path: "/output/result.bin", Digest: DigestOf(od), Size: ByteSize(on)}}}
	o := replicaOutcome{peer: prov.ID().String(), peerID: prov.ID(), job: res.JobID, result: res}
	if _, _, err := req.outputs(ctx, o, t.TempDir(), nil, DefaultMaxOutput, report); err != nil {
		t.Fatal(err)
	}
	if p, _ := last(StageDownloading); p.Done != on || p.Total != on || p.Name != "result.bin" || p.Provider != prov.ID().String() {
		t.Errorf("last download report %+v, want %d of %d bytes of result.bin from the provider", p, on, on)
	}
}
