//go:build linux

package autostart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// packagedEntry is what the .deb and .rpm install system-wide.
const packagedEntry = "../packaging/linux/spare-autostart.desktop"

func newXDG(t *testing.T) (XDG, string) {
	t.Helper()
	x := XDG{ConfigHome: t.TempDir(), ConfigDirs: []string{t.TempDir(), t.TempDir()}}
	p, err := x.userEntry()
	if err != nil {
		t.Fatal(err)
	}
	return x, p
}

// validate runs desktop-file-validate, the freedesktop.org checker, on an
// entry Spare wrote.
func validate(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("desktop-file-validate", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("desktop-file-validate %s: %v\n%s", path, err, out)
	}
}

func TestXDGUserEntry(t *testing.T) {
	x, p := newXDG(t)
	if enabled(t, x) {
		t.Fatal("enabled with no entry anywhere")
	}
	if err := x.Set(true, "/opt/spare/spare"); err != nil {
		t.Fatal(err)
	}
	validate(t, p)
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "\nExec=\"/opt/spare/spare\"\n") {
		t.Fatalf("entry:\n%s", b)
	}
	if !enabled(t, x) {
		t.Fatal("not enabled after Set(true)")
	}
	if err := x.Set(false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("with no system entry, turning off should remove the user's: %v", err)
	}
	if enabled(t, x) {
		t.Fatal("enabled after Set(false)")
	}
}

// With the packages' system-wide entry, removing the user's entry is not
// enough: the user's entry must hide it.
func TestXDGSystemEntry(t *testing.T) {
	x, p := newXDG(t)
	pkg, err := os.ReadFile(packagedEntry)
	if err != nil {
		t.Fatal(err)
	}
	sys := filepath.Join(x.ConfigDirs[1], "autostart", entryName)
	if err := os.MkdirAll(filepath.Dir(sys), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sys, pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	if !enabled(t, x) {
		t.Fatal("the installed system-wide entry is not seen as enabled")
	}
	if err := x.Set(false, ""); err != nil {
		t.Fatal(err)
	}
	validate(t, p)
	if b, _ := os.ReadFile(p); !strings.Contains(string(b), "\nHidden=true\n") {
		t.Fatalf("user entry does not hide the system one:\n%s", b)
	}
	if enabled(t, x) {
		t.Fatal("still enabled after Set(false)")
	}
	if err := x.Set(true, "/usr/bin/spare"); err != nil {
		t.Fatal(err)
	}
	if !enabled(t, x) {
		t.Fatal("not enabled after Set(true)")
	}
	// A user entry switched off by the desktop's own settings counts.
	off := strings.Replace(string(pkg), "X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false", 1)
	if err := os.WriteFile(p, []byte(off), 0o644); err != nil {
		t.Fatal(err)
	}
	if enabled(t, x) {
		t.Fatal("X-GNOME-Autostart-enabled=false read as enabled")
	}
}

func TestXDGDefaultsFromEnvironment(t *testing.T) {
	home, dirs := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("XDG_CONFIG_DIRS", "relative/ignored"+string(os.PathListSeparator)+dirs)
	x := XDG{}
	if p, _ := x.userEntry(); p != filepath.Join(home, "autostart", entryName) {
		t.Fatalf("user entry %s", p)
	}
	if got := x.systemDirs(); len(got) != 1 || got[0] != dirs {
		t.Fatalf("system dirs %q", got)
	}
	t.Setenv("XDG_CONFIG_DIRS", "")
	if got := x.systemDirs(); len(got) != 1 || got[0] != "/etc/xdg" {
		t.Fatalf("default system dirs %q", got)
	}
}

// Exec quoting per the Desktop Entry specification, checked by undoing it
// the way a desktop does and by desktop-file-validate.
func TestXDGExecQuoting(t *testing.T) {
	x, p := newXDG(t)
	for _, exe := range []string{`/home/ana/My Apps/spare`, `/opt/a"b/$HOME/c` + "`x`" + `\d/100%/spare`, "/opt/Späre/スペア"} {
		if err := x.Set(true, exe); err != nil {
			t.Fatal(err)
		}
		validate(t, p)
		b, _ := os.ReadFile(p)
		var execVal string
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "Exec="); ok {
				execVal = v
			}
		}
		if got := unquoteExec(t, execVal); got != exe {
			t.Errorf("Exec=%s reads back as %q, want %q", execVal, got, exe)
		}
	}
	for _, bad := range []string{"spare", "/opt/sp\nare"} {
		if err := x.Set(true, bad); err == nil {
			t.Errorf("Set(true, %q) accepted", bad)
		}
	}
}

// unquoteExec undoes the string escapes (\\ → \), then the quoting of one
// double-quoted argument, then %%.
func unquoteExec(t *testing.T, v string) string {
	t.Helper()
	s := strings.ReplaceAll(v, `\\`, `\`)
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		t.Fatalf("Exec value %q is not one quoted argument", v)
	}
	var b strings.Builder
	in := s[1 : len(s)-1]
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == '\\' && i+1 < len(in) && strings.IndexByte("\"`$\\", in[i+1]) >= 0 {
			i++
			c = in[i]
		}
		b.WriteByte(c)
	}
	return strings.ReplaceAll(b.String(), "%%", "%")
}
