package market

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sparegpu/spare/p2p"
)

// CheckBlobs checks that every blob spec names (the image archive when
// it is served by the requester, and each input) is in the requester's
// store with its declared size, so a job is never proposed that the
// provider cannot fetch. Errors wrap ErrInvalidSpec and name the field.
func (r *Requester) CheckBlobs(spec *JobSpec) error {
	var errs []error
	check := func(field string, d Digest, size ByteSize) {
		dg, err := p2p.ParseDigest(string(d))
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidSpec, field, err))
			return
		}
		fi, err := os.Stat(r.Blobs.Path(dg))
		switch {
		case err != nil || !fi.Mode().IsRegular():
			errs = append(errs, fmt.Errorf("%w: %s: %s is not in the blob store %s (pass the file with --image or --input)",
				ErrInvalidSpec, field, d, r.Blobs.Dir))
		case fi.Size() != int64(size):
			errs = append(errs, fmt.Errorf("%w: %s: the stored blob has %d bytes, the spec says %d", ErrInvalidSpec, field, fi.Size(), size))
		}
	}
	if spec.Image.Blob {
		check("image.digest", spec.Image.Digest, spec.Image.Size)
	}
	for i, in := range spec.Inputs {
		check(fmt.Sprintf("inputs[%d].digest", i), in.Digest, in.Size)
	}
	return errors.Join(errs...)
}

// PutFile stores a file in the blob store and returns its digest and
// size. A file the store already holds is only hashed, not copied again
// (the same image submitted job after job).
func PutFile(store p2p.FileStore, path string) (Digest, ByteSize, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, p2p.DefaultMaxBlobSize+1))
	if err != nil {
		return "", 0, err
	}
	var d p2p.Digest
	copy(d[:], h.Sum(nil))
	if fi, err := os.Stat(store.Path(d)); err == nil && fi.Mode().IsRegular() && fi.Size() == n {
		_ = store.Touch(d) // used again: a store kept least-recently-used keeps it
		return DigestOf(d), ByteSize(n), nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	d, n, err = store.Put(f, 0)
	if err != nil {
		return "", 0, err
	}
	return DigestOf(d), ByteSize(n), nil
}
