//go:build unix

package imagebuild

import (
	"io/fs"
	"syscall"
)

// fileIDs returns a file's owner, its inode identity and its link count,
// as far as the platform knows them.
func fileIDs(fi fs.FileInfo) (uid, gid int, id inode, nlink uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, inode{}, 1, false
	}
	return int(st.Uid), int(st.Gid), inode{dev: uint64(st.Dev), ino: uint64(st.Ino)}, uint64(st.Nlink), true
}
