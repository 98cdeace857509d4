package imagebuild

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// epoch is the modification time every entry carries, so that the layer's
// bytes depend on the tree's contents only.
var epoch = time.Unix(0, 0).UTC()

// inode identifies a file on disk, to find hard links.
type inode struct{ dev, ino uint64 }

// layerWriter turns a directory tree into a tar stream with a fixed order
// (depth first, names sorted bytewise), fixed times and normalised owners.
type layerWriter struct {
	root       string
	keepOwners bool
	log        *slog.Logger
	tw         *tar.Writer
	links      map[inode]string // first path seen for a multiply-linked file
	skipped    int
}

// writeLayer writes root's contents (not root itself) as a tar stream to w.
func writeLayer(ctx context.Context, root string, keepOwners bool, log *slog.Logger, w io.Writer) (skipped int, err error) {
	lw := &layerWriter{
		root:       root,
		keepOwners: keepOwners,
		log:        log,
		tw:         tar.NewWriter(w),
		links:      map[inode]string{},
	}
	// WalkDir visits each directory's entries in lexical order, which makes
	// the walk, and so the stream, deterministic.
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == root {
			return nil
		}
		return lw.add(path)
	})
	if err != nil {
		return lw.skipped, fmt.Errorf("walking %s: %w", root, err)
	}
	if err := lw.tw.Close(); err != nil {
		return lw.skipped, fmt.Errorf("closing layer tar: %w", err)
	}
	return lw.skipped, nil
}

// add writes one entry for path.
func (lw *layerWriter) add(path string) error {
	rel, err := filepath.Rel(lw.root, path)
	if err != nil {
		return err
	}
	name := filepath.ToSlash(rel)
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    tarMode(fi.Mode()),
		ModTime: epoch,
		Format:  tar.FormatPAX,
	}
	uid, gid, id, nlink, known := fileIDs(fi)
	if lw.keepOwners && known {
		hdr.Uid, hdr.Gid = uid, gid
	}

	switch m := fi.Mode(); {
	case m.IsDir():
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
	case m&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = target
	case m&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	case m&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeSocket) != 0:
		// A job image has no business carrying device nodes (the sandbox
		// gives none) and a socket cannot be archived.
		lw.log.Warn("skipping special file", "path", name, "mode", m.String())
		lw.skipped++
		return nil
	case m.IsRegular():
		if known && nlink > 1 {
			if first, ok := lw.links[id]; ok {
				hdr.Typeflag = tar.TypeLink
				hdr.Linkname = first
				return lw.tw.WriteHeader(hdr)
			}
			lw.links[id] = name
		}
		hdr.Typeflag = tar.TypeReg
		hdr.Size = fi.Size()
		return lw.writeFile(hdr, path)
	default:
		lw.log.Warn("skipping file of unknown type", "path", name, "mode", fi.Mode().String())
		lw.skipped++
		return nil
	}
	return lw.tw.WriteHeader(hdr)
}

func (lw *layerWriter) writeFile(hdr *tar.Header, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := lw.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(lw.tw, f)
	if err != nil {
		return fmt.Errorf("copying %s: %w", hdr.Name, err)
	}
	if n != hdr.Size {
		return fmt.Errorf("copying %s: size changed during build (%d, then %d bytes)", hdr.Name, hdr.Size, n)
	}
	return nil
}

// tarMode converts a Go file mode to tar's mode bits, keeping the
// permission, setuid, setgid and sticky bits.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
