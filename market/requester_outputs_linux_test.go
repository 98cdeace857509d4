package market

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutputsOwner: with an Owner (the daemon fetching for a local user),
// the job's directory, the directories under it and the files belong to
// that user and group.
func TestOutputsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	req, prov, store := outputPeer(t)
	d, n, err := store.Put(strings.NewReader("output bytes\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	prov.GrantBlob(req.Host.ID(), d, time.Hour)
	res := &Result{JobID: newJobID(), Outputs: []Output{{Path: "/output/a/b", Digest: DigestOf(d), Size: ByteSize(n)}}}
	o := replicaOutcome{peer: prov.ID().String(), peerID: prov.ID(), job: res.JobID, result: res}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, jobDir, err := req.outputs(ctx, o, t.TempDir(), &Owner{UID: 1234, GID: 5678}, DefaultMaxOutput, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{jobDir, filepath.Join(jobDir, "a"), got[0].File} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 1234 || st.Gid != 5678 {
			t.Fatalf("%s owned by %+v, want 1234:5678", p, fi.Sys())
		}
	}
}
