package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/sparegpu/spare/internal/units"
)

// OutputFile is one file a job left under /output.
type OutputFile struct {
	Path   string `json:"path"` // relative to /output, slash-separated
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// outputDir is the host directory behind /output. On Linux as root it is
// a tmpfs of exactly the cap, so a job that fills it gets ENOSPC and the
// host's disk is untouched.
type outputDir struct {
	path    string
	cap     int64
	mounted bool
}

// newOutputDir makes the directory, owned on the host by uid:gid (the
// job's user as the host sees it).
func newOutputDir(path string, capBytes int64, uid, gid uint32) (*outputDir, error) {
	if err := os.Mkdir(path, 0o755); err != nil {
		return nil, fmt.Errorf("creating output directory: %w", err)
	}
	o := &outputDir{path: path, cap: capBytes}
	mounted, err := mountCapped(path, capBytes, int(uid), int(gid))
	if err != nil {
		return nil, fmt.Errorf("capping output directory at %s: %w", units.FormatBytes(capBytes), err)
	}
	o.mounted = mounted
	return o, nil
}

// used returns the apparent size of the files under the directory: what
// copying them out would write. A sparse file counts in full.
func (o *outputDir) used() (int64, error) {
	var n int64
	err := filepath.WalkDir(o.path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}

// collect copies regular files into dst (created 0755), computing digests.
// Symlinks, devices and other special files are skipped: a job must not
// make the host read or write outside its own directory. At most the
// output cap is copied, counting each file's apparent size: a file that
// would pass it (a sparse file the tmpfs held in no space at all) is left
// behind, and so is every file after it.
func (o *outputDir) collect(dst string) ([]OutputFile, error) {
	var out []OutputFile
	var copied int64
	err := filepath.WalkDir(o.path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(o.path, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if copied+fi.Size() > o.cap {
			return fs.SkipAll
		}
		copied += fi.Size()
		f, err := copyFile(p, target, o.cap)
		if err != nil {
			return err
		}
		f.Path = filepath.ToSlash(rel)
		out = append(out, f)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("collecting outputs: %w", err)
	}
	return out, nil
}

// copyFile copies src to dst, at most limit bytes (a file that grew past
// it while copied is an error), and returns its size and digest.
func copyFile(src, dst string, limit int64) (OutputFile, error) {
	in, err := os.OpenFile(src, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return OutputFile{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return OutputFile{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(in, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("%s grew past %s while copied", filepath.Base(src), units.FormatBytes(limit))
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return OutputFile{}, err
	}
	return OutputFile{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// release unmounts the tmpfs, if any.
func (o *outputDir) release() error {
	if !o.mounted {
		return nil
	}
	if err := unmount(o.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unmounting %s: %w", o.path, err)
	}
	o.mounted = false
	return nil
}

// copyInputs copies host files and directories into dir, readable by the
// job's user. Symlinks inside directories are skipped.
func copyInputs(inputs []string, dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("creating input directory: %w", err)
	}
	for _, in := range inputs {
		fi, err := os.Stat(in)
		if err != nil {
			return fmt.Errorf("input %s: %w", in, err)
		}
		base := filepath.Join(dir, filepath.Base(in))
		if !fi.IsDir() {
			if _, err := copyFile(in, base, math.MaxInt64-1); err != nil {
				return fmt.Errorf("input %s: %w", in, err)
			}
			continue
		}
		err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(in, p)
			t := filepath.Join(base, rel)
			switch {
			case d.IsDir():
				return os.MkdirAll(t, 0o755)
			case d.Type().IsRegular():
				_, err := copyFile(p, t, math.MaxInt64-1)
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("input %s: %w", in, err)
		}
	}
	return nil
}
