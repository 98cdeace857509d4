package p2p

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/sparegpu/spare/p2p/wire"
)

const testBlobSize = 3*BlobChunkSize + 1234

// blobPair is a server holding one random blob and a connected client.
func blobPair(t *testing.T, src func(FileStore) BlobSource) (server, client *Host, d Digest, data []byte) {
	t.Helper()
	data = make([]byte, testBlobSize)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	store := FileStore{Dir: t.TempDir()}
	d, n, err := store.Put(bytes.NewReader(data), 0)
	if err != nil || n != testBlobSize || d != sha256.Sum256(data) {
		t.Fatalf("Put: %v %d %s", err, n, d)
	}
	server, client = newTestHost(t, Config{}), newTestHost(t, Config{})
	if src == nil {
		server.ServeBlobs(store)
	} else {
		server.ServeBlobs(src(store))
	}
	connect(t, client, server)
	server.GrantBlob(client.ID(), d, time.Hour)
	return server, client, d, data
}

// TestBlobGrants: a blob goes only to the peers it was granted to, until
// the grant ends; to anyone else it does not exist. Several sources are
// served side by side, each once.
func TestBlobGrants(t *testing.T) {
	server, client, d, data := blobPair(t, nil)
	stranger := newTestHost(t, Config{})
	connect(t, stranger, server)
	dir := t.TempDir()
	if err := stranger.FetchBlob(testCtx(t), server.ID(), d, filepath.Join(dir, "a"), FetchOptions{}); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("a peer without a grant: got %v, want ErrBlobNotFound", err)
	}
	server.GrantBlob(stranger.ID(), d, -time.Second) // already over
	if err := stranger.FetchBlob(testCtx(t), server.ID(), d, filepath.Join(dir, "b"), FetchOptions{}); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("an expired grant: got %v, want ErrBlobNotFound", err)
	}
	server.GrantBlob(stranger.ID(), d, time.Hour)
	server.GrantBlob(stranger.ID(), d, time.Millisecond) // does not shorten the hour
	if err := stranger.FetchBlob(testCtx(t), server.ID(), d, filepath.Join(dir, "c"), FetchOptions{}); err != nil {
		t.Fatalf("a granted peer: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "c")); !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}

	second := FileStore{Dir: t.TempDir()}
	e, _, err := second.Put(bytes.NewReader([]byte("another source")), 0)
	if err != nil {
		t.Fatal(err)
	}
	server.ServeBlobs(second)
	server.ServeBlobs(second)
	if n := len(server.blobs.sources); n != 2 {
		t.Fatalf("%d sources after adding one twice, want 2", n)
	}
	server.GrantBlob(client.ID(), e, time.Hour)
	if err := client.FetchBlob(testCtx(t), server.ID(), e, filepath.Join(dir, "d"), FetchOptions{}); err != nil {
		t.Fatalf("a blob of the second source: %v", err)
	}
}

// TestBlobGrantsBounded: past MaxBlobGrants the grant closest to its end
// makes room.
func TestBlobGrantsBounded(t *testing.T) {
	h := newTestHost(t, Config{})
	var soon Digest
	soon[31] = 2 // the loop below leaves byte 31 zero
	h.GrantBlob("peer", soon, time.Minute)
	for i := range MaxBlobGrants - 1 {
		var d Digest
		d[0], d[1], d[2] = byte(i), byte(i>>8), byte(i>>16)
		h.GrantBlob("peer", d, time.Hour)
	}
	var last Digest
	last[31] = 1
	h.GrantBlob("peer", last, time.Hour)
	if n := len(h.blobs.grants); n != MaxBlobGrants {
		t.Fatalf("%d grants, want the bound %d", n, MaxBlobGrants)
	}
	if _, ok := h.blobs.grants[blobGrant{"peer", soon}]; ok {
		t.Fatal("the grant closest to its end was kept")
	}
	if _, ok := h.blobs.grants[blobGrant{"peer", last}]; !ok {
		t.Fatal("the new grant was not kept")
	}
}

func TestBlobFetch(t *testing.T) {
	server, client, d, data := blobPair(t, nil)
	dst := filepath.Join(t.TempDir(), "blob")
	var calls int
	var last int64
	err := client.FetchBlob(testCtx(t), server.ID(), d, dst, FetchOptions{Progress: func(done, total int64) {
		calls++
		if total != testBlobSize || done <= last {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	if calls != 4 || last != testBlobSize {
		t.Fatalf("progress called %d times ending at %d", calls, last)
	}
}

func TestBlobResume(t *testing.T) {
	server, client, d, data := blobPair(t, nil)
	dst := filepath.Join(t.TempDir(), "blob")
	const have = BlobChunkSize + 100
	if err := os.WriteFile(dst+".partial", data[:have], 0o600); err != nil {
		t.Fatal(err)
	}
	var first int64
	err := client.FetchBlob(testCtx(t), server.ID(), d, dst, FetchOptions{Progress: func(done, total int64) {
		if first == 0 {
			first = done
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if first != have+BlobChunkSize {
		t.Fatalf("first progress at %d, want the transfer to resume at %d", first, have)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	if _, err := os.Stat(dst + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("partial file left behind")
	}
}

// lyingSource serves other bytes under the requested digest.
type lyingSource struct{ FileStore }

func (l lyingSource) OpenBlob(d Digest) (io.ReadSeekCloser, int64, error) {
	r, n, err := l.FileStore.OpenBlob(d)
	if err != nil {
		return nil, 0, err
	}
	r.Close()
	return readSeekNopCloser{bytes.NewReader(bytes.Repeat([]byte{'x'}, int(n)))}, n, nil
}

type readSeekNopCloser struct{ io.ReadSeeker }

func (readSeekNopCloser) Close() error { return nil }

func TestBlobDigestMismatchRefused(t *testing.T) {
	server, client, d, _ := blobPair(t, func(s FileStore) BlobSource { return lyingSource{s} })
	dst := filepath.Join(t.TempDir(), "blob")
	err := client.FetchBlob(testCtx(t), server.ID(), d, dst, FetchOptions{})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("got %v, want ErrDigestMismatch", err)
	}
	for _, p := range []string{dst, dst + ".partial"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s exists after a mismatch", p)
		}
	}
}

func TestBlobRefusals(t *testing.T) {
	server, client, d, _ := blobPair(t, nil)
	dir := t.TempDir()
	var missing Digest
	if err := client.FetchBlob(testCtx(t), server.ID(), missing, filepath.Join(dir, "a"), FetchOptions{}); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("missing blob: got %v", err)
	}
	if err := client.FetchBlob(testCtx(t), server.ID(), d, filepath.Join(dir, "b"), FetchOptions{MaxSize: 1000}); !errors.Is(err, ErrBlobTooLarge) {
		t.Fatalf("over MaxSize: got %v", err)
	}
	// A partial file longer than the blob is discarded and the fetch redone.
	long := filepath.Join(dir, "c")
	if err := os.WriteFile(long+".partial", make([]byte, testBlobSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := client.FetchBlob(testCtx(t), server.ID(), d, long, FetchOptions{}); err != nil {
		t.Fatalf("over-long partial file: %v", err)
	}
}

// TestBlobMalformedRequests speaks the protocol by hand: each bad request is
// refused with an error frame naming the reason.
func TestBlobMalformedRequests(t *testing.T) {
	server, client, d, _ := blobPair(t, nil)
	cases := []struct {
		name string
		send func(w io.Writer) error
		code string
	}{
		{"wrong message type", func(w io.Writer) error {
			return wire.WriteFrame(w, 64, wire.Envelope{Type: blobData, Version: 1, Payload: []byte("x")})
		}, BlobCodeBadRequest},
		{"unknown version", func(w io.Writer) error {
			return wire.WriteFrame(w, 64, wire.Envelope{Type: blobGet, Version: 9, Payload: EncodeBlobRequest(BlobRequest{Digest: d})})
		}, BlobCodeBadRequest},
		{"short digest", func(w io.Writer) error {
			return wire.WriteFrame(w, 64, wire.Envelope{Type: blobGet, Version: 1, Payload: d[:10]})
		}, BlobCodeBadRequest},
		{"oversized frame", func(w io.Writer) error {
			return wire.WriteFrame(w, 1<<20, wire.Envelope{Type: blobGet, Version: 1, Payload: make([]byte, 4096)})
		}, BlobCodeBadRequest},
		{"garbage", func(w io.Writer) error { _, err := w.Write([]byte{0xff, 0xff, 0xff}); return err }, BlobCodeBadRequest},
		{"offset beyond size", func(w io.Writer) error {
			return wire.WriteFrame(w, 64, wire.Envelope{Type: blobGet, Version: 1, Payload: EncodeBlobRequest(BlobRequest{Digest: d, Offset: testBlobSize + 1})})
		}, BlobCodeBadOffset},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := client.LibP2P().NewStream(testCtx(t), server.ID(), BlobProtocol)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// The server may refuse before it has read all we send (an
			// oversized frame is refused on its length prefix) and then
			// stops reading: our write can fail with a reset. The refusal
			// still comes back on the other direction; that is what counts.
			if err := c.send(s); err != nil && !errors.Is(err, network.ErrReset) {
				t.Fatal(err)
			}
			_ = s.CloseWrite()
			_, err = wire.ReadFrame(s, maxBlobFrame)
			var re *wire.RemoteError
			if !errors.As(err, &re) || re.Code != c.code || re.Reason == "" {
				t.Fatalf("got %v, want refusal %q with a reason", err, c.code)
			}
			t.Logf("refused: %s: %s", re.Code, re.Reason)
		})
	}
}

func FuzzDecodeBlobRequest(f *testing.F) {
	f.Add(EncodeBlobRequest(BlobRequest{Offset: 12345}))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := DecodeBlobRequest(p)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if r.Offset < 0 || !bytes.Equal(EncodeBlobRequest(r), p) {
			t.Fatalf("%x decoded to %+v, which does not re-encode to the input", p, r)
		}
	})
}
