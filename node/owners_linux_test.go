package node

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestOwnersFile: `spare node --owner` records users once each, by name
// or ID; a line naming nobody is skipped and reported; a file another
// user could have written lists nobody and is not added to.
func TestOwnersFile(t *testing.T) {
	testenv.NeedRoot(t) // the file must belong to root or the daemon's user
	dir := t.TempDir()
	if uids, err := readOwners(dir); err != nil || len(uids) != 0 {
		t.Fatalf("no file: %v %v", uids, err)
	}
	if err := AddOwners(dir, []string{"nobody", "4321"}); err != nil {
		t.Fatal(err)
	}
	if err := AddOwners(dir, []string{"4321", "65534"}); err != nil {
		t.Fatal(err)
	}
	if uids, err := readOwners(dir); err != nil || !slices.Equal(uids, []int{65534, 4321}) {
		t.Fatalf("owners %v %v, want nobody and 4321 once each", uids, err)
	}
	if err := AddOwners(dir, []string{"no-such-user-here"}); err == nil || !strings.Contains(err.Error(), `no user "no-such-user-here"`) {
		t.Fatalf("unknown user added: %v", err)
	}

	f, err := os.OpenFile(ownersPath(dir), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("no-such-user-here\n-5\n77 # an ID with a comment\n")
	f.Close()
	uids, err := readOwners(dir)
	if !slices.Equal(uids, []int{65534, 4321, 77}) || err == nil || !strings.Contains(err.Error(), "line 6") || !strings.Contains(err.Error(), "line 7") {
		t.Fatalf("with bad lines: %v %v", uids, err)
	}

	for name, spoil := range map[string]func() error{
		"writable by others": func() error { return os.Chmod(ownersPath(dir), 0o646) },
		"another's file":     func() error { return os.Chown(ownersPath(dir), 4321, 4321) },
		"a link":             func() error { return os.Symlink("/etc/passwd", ownersPath(dir)) },
	} {
		os.Remove(ownersPath(dir))
		if err := os.WriteFile(ownersPath(dir), []byte("4321\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "a link" {
			os.Remove(ownersPath(dir))
		}
		if err := spoil(); err != nil {
			t.Fatal(err)
		}
		if uids, err := readOwners(dir); len(uids) != 0 || err == nil {
			t.Errorf("%s: owners %v (%v), want none and a reason", name, uids, err)
		}
		if err := AddOwners(dir, []string{"4322"}); err == nil {
			t.Errorf("%s: added to", name)
		}
	}
}
