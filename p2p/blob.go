package p2p

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sparegpu/spare/p2p/wire"
)

// Limits of the blob protocol.
const (
	// BlobChunkSize is the most bytes one data frame carries.
	BlobChunkSize = 256 << 10
	// DefaultMaxBlobSize is FetchOptions.MaxSize when unset.
	DefaultMaxBlobSize = 16 << 30
	// BlobIdleTimeout: a blob stream is reset when no frame moves for this
	// long (the stream deadline is pushed forward after every frame).
	BlobIdleTimeout = 30 * time.Second
	// maxBlobRequest caps the request frame (digest + offset + envelope).
	maxBlobRequest = 64
	// maxBlobFrame caps any frame of the protocol.
	maxBlobFrame = BlobChunkSize + 32
)

// Message types of /spare/blob/1.0.0 (all version 1).
const (
	blobGet    = 1 // client → server: digest[32] || uvarint offset
	blobHeader = 2 // server → client: uvarint total size
	blobData   = 3 // server → client: 1..BlobChunkSize bytes
)

// Refusal codes of /spare/blob/1.0.0.
const (
	BlobCodeNotFound   = "not_found"
	BlobCodeBadRequest = "bad_request"
	BlobCodeBadOffset  = "bad_offset"
	BlobCodeInternal   = "internal"
)

// Digest is a sha256 content digest.
type Digest [sha256.Size]byte

// String is "sha256:" followed by the hex digest.
func (d Digest) String() string { return "sha256:" + hex.EncodeToString(d[:]) }

// ParseDigest reads "sha256:<64 hex>" (the prefix may be omitted).
func ParseDigest(s string) (Digest, error) {
	var d Digest
	h := strings.TrimPrefix(s, "sha256:")
	if len(h) != 2*len(d) {
		return d, fmt.Errorf("%w: %q", ErrBadDigest, s)
	}
	if _, err := hex.Decode(d[:], []byte(h)); err != nil {
		return d, fmt.Errorf("%w: %q: %w", ErrBadDigest, s, err)
	}
	return d, nil
}

// BlobSource gives the blob server its content. OpenBlob returns a reader
// of the blob with that digest and its size, or an error wrapping
// ErrBlobNotFound. FileStore is one.
type BlobSource interface {
	OpenBlob(d Digest) (io.ReadSeekCloser, int64, error)
}

// BlobRequest is a decoded blobGet message.
type BlobRequest struct {
	Digest Digest
	Offset int64
}

// EncodeBlobRequest is the payload of a blobGet message.
func EncodeBlobRequest(r BlobRequest) []byte {
	b := append([]byte(nil), r.Digest[:]...)
	return binary.AppendUvarint(b, uint64(r.Offset))
}

// DecodeBlobRequest parses a blobGet payload: exactly a digest and a
// minimally encoded uvarint offset below 2^63.
func DecodeBlobRequest(p []byte) (BlobRequest, error) {
	var r BlobRequest
	if len(p) < len(r.Digest)+1 {
		return r, fmt.Errorf("%w: request of %d bytes", wire.ErrMalformed, len(p))
	}
	copy(r.Digest[:], p)
	off, n := binary.Uvarint(p[len(r.Digest):])
	if n <= 0 || len(r.Digest)+n != len(p) || binary.PutUvarint(make([]byte, binary.MaxVarintLen64), off) != n {
		return r, fmt.Errorf("%w: bad offset encoding or trailing bytes", wire.ErrMalformed)
	}
	if off > 1<<63-1 {
		return r, fmt.Errorf("%w: offset out of range", wire.ErrMalformed)
	}
	r.Offset = int64(off)
	return r, nil
}

func (n *Host) serveBlob(s network.Stream) {
	remote := s.Conn().RemotePeer()
	log := n.log.With("protocol", BlobProtocol, "peer", remote)
	_ = s.SetDeadline(time.Now().Add(BlobIdleTimeout))
	refuse := func(code, reason string) {
		log.Debug("blob request refused", "code", code, "reason", reason)
		if wire.WriteError(s, code, reason) != nil {
			_ = s.Reset()
			return
		}
		_ = s.Close()
	}
	e, err := wire.ReadFrame(s, maxBlobRequest)
	if err == nil {
		err = wire.Expect(e, blobGet, 1)
	}
	var req BlobRequest
	if err == nil {
		req, err = DecodeBlobRequest(e.Payload)
	}
	if err != nil {
		refuse(BlobCodeBadRequest, err.Error())
		return
	}
	r, size, err := n.blobs.open(remote, req.Digest)
	if errors.Is(err, ErrBlobNotFound) {
		// The same answer whether the blob is missing or not granted: a
		// stranger learns nothing about what this host holds.
		refuse(BlobCodeNotFound, req.Digest.String())
		return
	} else if err != nil {
		log.Warn("opening blob", "digest", req.Digest, "err", err)
		refuse(BlobCodeInternal, "cannot open blob")
		return
	}
	defer r.Close()
	if req.Offset > size {
		refuse(BlobCodeBadOffset, fmt.Sprintf("offset %d beyond size %d", req.Offset, size))
		return
	}
	if _, err := r.Seek(req.Offset, io.SeekStart); err != nil {
		refuse(BlobCodeInternal, "cannot seek")
		return
	}
	if err := wire.WriteFrame(s, maxBlobFrame, wire.Envelope{Type: blobHeader, Version: 1,
		Payload: binary.AppendUvarint(nil, uint64(size))}); err != nil {
		_ = s.Reset()
		return
	}
	buf := make([]byte, BlobChunkSize)
	for left := size - req.Offset; left > 0; {
		k, err := io.ReadFull(r, buf[:min(int64(len(buf)), left)])
		if err != nil {
			log.Warn("reading blob", "digest", req.Digest, "err", err)
			_ = s.Reset()
			return
		}
		_ = s.SetDeadline(time.Now().Add(BlobIdleTimeout))
		if err := wire.WriteFrame(s, maxBlobFrame, wire.Envelope{Type: blobData, Version: 1, Payload: buf[:k]}); err != nil {
			_ = s.Reset()
			return
		}
		left -= int64(k)
	}
	n.blobs.served(remote, req.Digest)
	_ = s.Close()
}

// FetchOptions tune FetchBlob. The zero value works.
type FetchOptions struct {
	// MaxSize refuses blobs larger than this. Zero: DefaultMaxBlobSize.
	MaxSize int64
	// Progress, when non-nil, is called after every chunk with the bytes
	// held so far (resumed ones included) and the blob's size.
	Progress func(done, total int64)
}

// FetchBlob downloads the blob with digest d from peer p into the file dst.
// Bytes go first to dst+".partial"; a partial file left by an interrupted
// fetch is resumed from its end. The whole file is then hashed: on a
// mismatch the partial file is deleted and the error wraps
// ErrDigestMismatch; on success it is renamed to dst.
func (n *Host) FetchBlob(ctx context.Context, p peer.ID, d Digest, dst string, opt FetchOptions) error {
	if opt.MaxSize <= 0 {
		opt.MaxSize = DefaultMaxBlobSize
	}
	part := dst + ".partial"
	err := n.fetchBlob(ctx, p, d, part, opt)
	var re *wire.RemoteError
	if errors.As(err, &re) && re.Code == BlobCodeBadOffset {
		// Our partial file is longer than the blob: start over once.
		if err := os.Remove(part); err != nil {
			return fmt.Errorf("fetching %s: %w", d, err)
		}
		err = n.fetchBlob(ctx, p, d, part, opt)
	}
	if err != nil {
		return fmt.Errorf("fetching %s from %s: %w", d, p, err)
	}
	if err := verifyFile(part, d); err != nil {
		_ = os.Remove(part)
		return fmt.Errorf("fetching %s from %s: %w", d, p, err)
	}
	return os.Rename(part, dst)
}

// FetchBlobTo downloads the blob with digest d from peer p, writing its
// bytes to w as they arrive, and hashes them: on a mismatch the error
// wraps ErrDigestMismatch and the caller discards what w received. It
// does not resume; the caller opens w (for outputs, a file created
// exclusively inside an os.Root).
func (n *Host) FetchBlobTo(ctx context.Context, p peer.ID, d Digest, w io.Writer, opt FetchOptions) error {
	if opt.MaxSize <= 0 {
		opt.MaxSize = DefaultMaxBlobSize
	}
	h := sha256.New()
	if err := n.fetchBlobTo(ctx, p, d, io.MultiWriter(w, h), 0, opt); err != nil {
		return fmt.Errorf("fetching %s from %s: %w", d, p, err)
	}
	var got Digest
	copy(got[:], h.Sum(nil))
	if got != d {
		return fmt.Errorf("fetching %s from %s: %w: got %s", d, p, ErrDigestMismatch, got)
	}
	return nil
}

func (n *Host) fetchBlob(ctx context.Context, p peer.ID, d Digest, part string, opt FetchOptions) (err error) {
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := n.fetchBlobTo(ctx, p, d, f, st.Size(), opt); err != nil {
		return err
	}
	return f.Sync()
}

// fetchBlobTo asks p for d from offset and writes the bytes to f.
func (n *Host) fetchBlobTo(ctx context.Context, p peer.ID, d Digest, f io.Writer, offset int64, opt FetchOptions) (err error) {
	s, err := n.h.NewStream(ctx, p, BlobProtocol)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = s.Reset()
		} else {
			_ = s.Close()
		}
	}()
	// Cancelling ctx aborts the transfer at once.
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	_ = s.SetDeadline(time.Now().Add(BlobIdleTimeout))
	req := EncodeBlobRequest(BlobRequest{Digest: d, Offset: offset})
	if err := wire.WriteFrame(s, maxBlobRequest, wire.Envelope{Type: blobGet, Version: 1, Payload: req}); err != nil {
		return err
	}
	e, err := wire.ReadFrame(s, maxBlobFrame)
	if err != nil {
		return blobRemoteErr(err)
	}
	if err := wire.Expect(e, blobHeader, 1); err != nil {
		return err
	}
	size, k := binary.Uvarint(e.Payload)
	if k <= 0 || k != len(e.Payload) || size > 1<<63-1 {
		return fmt.Errorf("%w: bad blob header", wire.ErrMalformed)
	}
	total := int64(size)
	if total > opt.MaxSize {
		return fmt.Errorf("%w: %d bytes, cap %d", ErrBlobTooLarge, total, opt.MaxSize)
	}
	if offset > total {
		return &wire.RemoteError{Code: BlobCodeBadOffset, Reason: "partial file longer than blob"}
	}
	done := offset
	for done < total {
		e, err := wire.ReadFrame(s, maxBlobFrame)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: stream ended at %d of %d bytes", wire.ErrMalformed, done, total)
			}
			return blobRemoteErr(err)
		}
		if err := wire.Expect(e, blobData, 1); err != nil {
			return err
		}
		if len(e.Payload) == 0 || int64(len(e.Payload)) > total-done {
			return fmt.Errorf("%w: data frame of %d bytes with %d left", wire.ErrMalformed, len(e.Payload), total-done)
		}
		if _, err := f.Write(e.Payload); err != nil {
			return err
		}
		done += int64(len(e.Payload))
		_ = s.SetDeadline(time.Now().Add(BlobIdleTimeout))
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
	}
	return nil
}

// blobRemoteErr maps refusal codes to this package's sentinels.
func blobRemoteErr(err error) error {
	var re *wire.RemoteError
	if errors.As(err, &re) && re.Code == BlobCodeNotFound {
		return fmt.Errorf("%w: %w", ErrBlobNotFound, err)
	}
	return err
}

// verifyFile checks that the file at path hashes to d.
func verifyFile(path string, d Digest) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	var got Digest
	copy(got[:], h.Sum(nil))
	if got != d {
		return fmt.Errorf("%w: got %s, want %s", ErrDigestMismatch, got, d)
	}
	return nil
}
