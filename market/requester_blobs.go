package market

import (
	"errors"
	"fmt"
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
