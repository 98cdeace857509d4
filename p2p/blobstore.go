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
	"time"
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

// StoredBlob is one blob a FileStore holds.
type StoredBlob struct {
	Digest Digest
	Size   int64
	// Used is when the blob was stored or last marked used (Touch).
	Used time.Time
}

// List returns the blobs the store holds; names that are not a digest
// (partial fetches, temporary files) are left out.
func (s FileStore) List() ([]StoredBlob, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing blobs: %w", err)
	}
	var out []StoredBlob
	for _, e := range ents {
		d, err := ParseDigest(e.Name())
		if err != nil || !e.Type().IsRegular() || strings.HasPrefix(e.Name(), "sha256:") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, StoredBlob{Digest: d, Size: fi.Size(), Used: fi.ModTime()})
	}
	return out, nil
}

// Touch marks the blob d used now (its modification time), so a store
// kept least-recently-used keeps it longer.
func (s FileStore) Touch(d Digest) error {
	now := time.Now()
	return os.Chtimes(s.Path(d), now, now)
}

// Remove deletes the blob d; a blob already gone is no error. A reader
// that has it open reads on to its end.
func (s FileStore) Remove(d Digest) error {
	if err := os.Remove(s.Path(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing blob %s: %w", d, err)
	}
	return nil
}

// RemoveUnfinished deletes what interrupted writes left in the store:
// partial fetches (DIGEST.partial, see FetchBlob) and Put's temporary
// files. Call it only while nothing writes to the store (at start). It
// returns the bytes freed.
func (s FileStore) RemoveUnfinished() (int64, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("listing blobs: %w", err)
	}
	var freed int64
	var errs []error
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".partial") && !strings.HasPrefix(name, ".put-") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			freed += fi.Size()
		}
		if err := os.Remove(filepath.Join(s.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return freed, errors.Join(errs...)
}
