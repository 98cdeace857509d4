package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// spareInProcessErr runs the CLI in-process and returns the error it ends with.
func spareInProcessErr(t *testing.T, args ...string) error {
	t.Helper()
	root := newRootCmd(&globals{})
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	return root.ExecuteContext(context.Background())
}

// TestWalletExportOutRefusesToClobber plays someone who placed a file or a
// link where the owner will export the key: the export must neither replace
// the file nor write through the link, and a fresh file is the owner's only.
func TestWalletExportOutRefusesToClobber(t *testing.T) {
	dir := t.TempDir()
	if _, code := spareInProcess(t, "wallet", "address", "--data", dir); code != 0 {
		t.Fatalf("address exit %d", code)
	}
	tmp := t.TempDir()

	t.Run("existing file", func(t *testing.T) {
		p := filepath.Join(tmp, "existing.json")
		if err := os.WriteFile(p, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, 0o644)
		err := spareInProcessErr(t, "wallet", "export", "--data", dir, "--out", p)
		if err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("export over an existing file: err %v, want one saying it already exists", err)
		}
		b, _ := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if string(b) != "keep me" || fi.Mode().Perm() != 0o644 {
			t.Fatalf("existing file changed: %q mode %v", b, fi.Mode().Perm())
		}
	})

	t.Run("symlink", func(t *testing.T) {
		target := filepath.Join(tmp, "elsewhere")
		if err := os.WriteFile(target, []byte("victim"), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(tmp, "link.json")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := spareInProcessErr(t, "wallet", "export", "--data", dir, "--out", link); err == nil {
			t.Fatal("export through a symlink succeeded")
		}
		if b, _ := os.ReadFile(target); string(b) != "victim" {
			t.Fatalf("symlink target written: %q", b)
		}
		// A dangling link must not be followed either: no file appears at its target.
		dangling := filepath.Join(tmp, "dangling.json")
		gone := filepath.Join(tmp, "created-through-link")
		if err := os.Symlink(gone, dangling); err != nil {
			t.Fatal(err)
		}
		if err := spareInProcessErr(t, "wallet", "export", "--data", dir, "--out", dangling); err == nil {
			t.Fatal("export through a dangling symlink succeeded")
		}
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Fatalf("a file was created through the dangling link: %v", err)
		}
	})

	t.Run("fresh file", func(t *testing.T) {
		p := filepath.Join(tmp, "fresh.json")
		if err := spareInProcessErr(t, "wallet", "export", "--data", dir, "--out", p); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
			t.Fatalf("fresh export: %v mode %v, want a regular file with mode 0600", err, fi.Mode())
		}
		if b, _ := os.ReadFile(p); !bytes.Contains(b, []byte(`"crypto"`)) {
			t.Fatalf("fresh export is not a keystore: %.80q", b)
		}
	})
}
