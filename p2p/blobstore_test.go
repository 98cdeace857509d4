package p2p

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestOwedBlobs: a granted blob is owed until its peer fetched it to the
// end, or its grant ended; a fetch that stops early leaves it owed.
func TestOwedBlobs(t *testing.T) {
	server, client, d, _ := blobPair(t, nil)
	if !server.OwedBlobs()[d] {
		t.Fatal("a granted blob nobody fetched is not owed")
	}
	dir := t.TempDir()
	if err := client.FetchBlob(testCtx(t), server.ID(), d, filepath.Join(dir, "short"), FetchOptions{MaxSize: 10}); err == nil {
		t.Fatal("a fetch capped below the blob's size succeeded")
	}
	if !server.OwedBlobs()[d] {
		t.Fatal("a blob whose fetch stopped early is no longer owed")
	}
	if err := client.FetchBlob(testCtx(t), server.ID(), d, filepath.Join(dir, "full"), FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the fetched blob owed to nobody", 5*time.Second, func() bool { return !server.OwedBlobs()[d] })
	server.GrantBlob(client.ID(), d, time.Minute) // the same output of another job
	if !server.OwedBlobs()[d] {
		t.Fatal("a blob granted again after a fetch is not owed")
	}
	if err := client.FetchBlob(testCtx(t), server.ID(), d, filepath.Join(dir, "again"), FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the blob fetched again owed to nobody", 5*time.Second, func() bool { return !server.OwedBlobs()[d] })

	var other Digest
	other[0] = 1
	server.GrantBlob(client.ID(), other, -time.Second)
	if server.OwedBlobs()[other] {
		t.Fatal("a blob whose grant ended is owed")
	}
}

// TestFileStoreRetention: List names only complete blobs, with their size
// and last use; Touch moves the last use; RemoveUnfinished deletes
// partial fetches and Put's temporary files and nothing else.
func TestFileStoreRetention(t *testing.T) {
	s := FileStore{Dir: t.TempDir()}
	d, _, err := s.Put(bytes.NewReader([]byte("kept blob")), 0)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(s.Path(d), old, old); err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int{d.String()[7:] + ".partial": 100, ".put-123": 50, "notes.txt": 3} {
		if err := os.WriteFile(filepath.Join(s.Dir, name), make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Digest != d || list[0].Size != 9 || !list[0].Used.Equal(old) {
		t.Fatalf("List: %+v, %v; want the one blob of 9 bytes used at %v", list, err, old)
	}
	if err := s.Touch(d); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 1 || time.Since(list[0].Used) > time.Minute {
		t.Fatalf("after Touch: %+v", list)
	}
	freed, err := s.RemoveUnfinished()
	if err != nil || freed != 150 {
		t.Fatalf("RemoveUnfinished freed %d, %v; want 150", freed, err)
	}
	left, _ := os.ReadDir(s.Dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if len(names) != 2 {
		t.Fatalf("left %v, want the blob and notes.txt", names)
	}
	if err := s.Remove(d); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(d); err != nil {
		t.Fatalf("removing a blob already gone: %v", err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("after Remove: %+v", list)
	}
}
