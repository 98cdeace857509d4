package node

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sparegpu/spare/internal/atomicfile"
	"github.com/sparegpu/spare/localapi"
)

// maxOwnersFile bounds DATA/owners.
const maxOwnersFile = 64 << 10

// ownersPath is DATA/owners (localapi.OwnersFile).
func ownersPath(dataDir string) string { return filepath.Join(dataDir, localapi.OwnersFile) }

// readOwners returns the user IDs DATA/owners lists (none when there is
// no file). The file must be a regular file that root or the daemon's user
// owns and nobody else may write; otherwise it lists nobody, and the
// error says why. A line naming no known user is skipped and reported in
// the error beside the IDs that were read.
func readOwners(dataDir string) ([]int, error) {
	p := ownersPath(dataDir)
	f, err := os.OpenFile(p, os.O_RDONLY|noFollow, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("owners file %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("owners file %s: %w", p, err)
	}
	if err := trustedFile(fi); err != nil {
		return nil, fmt.Errorf("owners file %s: %w; ignoring it", p, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxOwnersFile+1))
	if err != nil {
		return nil, fmt.Errorf("owners file %s: %w", p, err)
	}
	if len(b) > maxOwnersFile {
		return nil, fmt.Errorf("owners file %s: larger than %d bytes; ignoring it", p, maxOwnersFile)
	}
	var uids []int
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		uid, err := lookupUser(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("owners file %s line %d: %w", p, n, errOwnerLine{err}))
			continue
		}
		uids = append(uids, uid)
	}
	return uids, errors.Join(errs...)
}

// errOwnerLine is a line of DATA/owners that names no user; the lines
// around it still count.
type errOwnerLine struct{ error }

func (e errOwnerLine) Unwrap() error { return e.error }

// lookupUser resolves a user name or numeric user ID.
func lookupUser(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 1<<31-2 {
			return 0, fmt.Errorf("user ID %d out of range", n)
		}
		return n, nil
	}
	u, err := user.Lookup(s)
	if err != nil {
		return 0, fmt.Errorf("no user %q on this machine", s)
	}
	n, err := strconv.Atoi(u.Uid)
	if err != nil {
		return 0, fmt.Errorf("user %q has no numeric ID (%s)", s, u.Uid)
	}
	return n, nil
}

// AddOwners records users (names or numeric IDs) in DATA/owners, so that
// they administer the daemon of dataDir (localapi.LevelAdmin) from now on;
// those already listed are left alone. `spare node --owner` calls it.
func AddOwners(dataDir string, users []string) error {
	have, err := readOwners(dataDir)
	if err != nil && !errors.As(err, new(errOwnerLine)) {
		return err // a file that is not to be trusted is not added to
	}
	old, err := os.ReadFile(ownersPath(dataDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(old) == 0 {
		old = []byte("# Users who administer this Spare daemon besides root and its own user:\n" +
			"# they change its settings, withdraw and export the wallet, submit jobs.\n" +
			"# One user a line, by name or numeric ID.\n")
	}
	out := bytes.Clone(old)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	added := false
	for _, name := range users {
		uid, err := lookupUser(strings.TrimSpace(name))
		if err != nil {
			return fmt.Errorf("--owner %q: %w", name, err)
		}
		if slices.Contains(have, uid) {
			continue
		}
		have = append(have, uid)
		out = append(out, fmt.Sprintf("%d # %s\n", uid, userName(uid))...)
		added = true
	}
	if !added {
		return nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(ownersPath(dataDir), out, 0o644)
}

// userName is a user's login name, or "uid N" when there is none.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}
