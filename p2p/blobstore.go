package p2p

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileStore is a directory of blobs named by their sha256 in hex. It is a
// BlobSource.
type FileStore struct {
	Dir string
}

var _ BlobSource = FileStore{}

// Path is where the blob with digest d lives (whether or not it exists).
func (s FileStore) Path(d Digest) string {
	return filepath.Join(s.Dir, strings.TrimPrefix(d.String(), "sha256:"))
}

// OpenBlob opens a stored blob.
func (s FileStore) OpenBlob(d Digest) (io.ReadSeekCloser, int64, error) {
	f, err := os.Open(s.Path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: %s", ErrBlobNotFound, d)
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// Put stores the bytes of r (at most max; zero: DefaultMaxBlobSize) and
// returns their digest and size.
func (s FileStore) Put(r io.Reader, max int64) (Digest, int64, error) {
	var d Digest
	if max <= 0 {
		max = DefaultMaxBlobSize
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return d, 0, err
	}
	tmp, err := os.CreateTemp(s.Dir, ".put-*")
	if err != nil {
		return d, 0, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err == nil && n > max {
		err = fmt.Errorf("%w: more than %d bytes", ErrBlobTooLarge, max)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return d, 0, fmt.Errorf("storing blob: %w", err)
	}
	copy(d[:], h.Sum(nil))
	if err := os.Rename(tmp.Name(), s.Path(d)); err != nil {
		return d, 0, fmt.Errorf("storing blob: %w", err)
	}
	return d, n, nil
}
