package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestLintian runs Debian's lintian over the .deb: no errors and no
// warnings (linux/lintian-overrides silences each one that does not
// apply, with its reason).
func TestLintian(t *testing.T) {
	lintian := testenv.NeedCommand(t, "lintian", "lintian")
	pkgs := buildPackages(t)
	out, err := exec.Command(lintian, "--fail-on", "error,warning", "--display-level", ">=warning", pkgs.deb).CombinedOutput()
	t.Logf("lintian %s:\n%s", filepath.Base(pkgs.deb), out)
	if err != nil {
		t.Errorf("lintian failed: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
			t.Errorf("lintian: %s", l)
		}
	}
}

// TestRpmlint runs rpmlint over the .rpm with linux/rpmlint.toml: no
// errors, no warnings.
//
// rpmlint unpacks the .rpm with `rpm2cpio | cpio -id` in a directory of
// its own; nfpm's payload names its files by absolute path (/usr/bin/spare
// where rpmbuild writes ./usr/bin/spare), so GNU cpio would write them
// into the real /usr (rpmlint then stops with "fatal error while reading"
// as it finds nothing in its directory). rpm itself installs either form.
// The test puts a cpio first on PATH that adds --no-absolute-filenames.
func TestRpmlint(t *testing.T) {
	rpmlint := testenv.NeedCommand(t, "rpmlint", "rpmlint")
	cpio := testenv.NeedCommand(t, "cpio", "cpio")
	pkgs := buildPackages(t)
	wrap := t.TempDir()
	script := "#!/bin/sh\nexec " + cpio + " --no-absolute-filenames \"$@\"\n"
	if err := os.WriteFile(filepath.Join(wrap, "cpio"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rpmlint, "-c", "linux/rpmlint.toml", pkgs.rpm)
	cmd.Env = append(os.Environ(), "PATH="+wrap+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	t.Logf("rpmlint %s:\n%s", filepath.Base(pkgs.rpm), out)
	if err != nil {
		t.Errorf("rpmlint failed: %v", err)
	}
	if !strings.Contains(string(out), " 0 errors, 0 warnings") {
		t.Error("rpmlint reports errors or warnings")
	}
}

// TestNoticesListEveryModule checks that every Go module compiled into
// spare (the binary's own build information) has its licence in the
// notices the packages and `spare version --licenses` carry.
func TestNoticesListEveryModule(t *testing.T) {
	pkgs := buildPackages(t)
	out, err := exec.Command("go", "version", "-m", pkgs.bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	text, err := exec.Command(pkgs.bin, "version", "--licenses").Output()
	if err != nil {
		t.Fatalf("spare version --licenses: %v", err)
	}
	checkLicenses(t, string(text))
	// Each library's heading follows a line of "=": its import paths
	// and version.
	var listed []string
	sc := bufio.NewScanner(strings.NewReader(string(text)))
	prev := ""
	for sc.Scan() {
		if strings.HasPrefix(prev, "=====") {
			listed = append(listed, strings.Fields(sc.Text())...)
		}
		prev = sc.Text()
	}
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "dep" {
			continue
		}
		n++
		mod := f[1]
		found := false
		for _, p := range listed {
			if p == mod || strings.HasPrefix(p, mod+"/") || strings.HasPrefix(mod, p+"/") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("module %s is compiled into spare but not in its notices", mod)
		}
	}
	if n < 100 {
		t.Errorf("go version -m lists %d modules; want the hundred and more spare links", n)
	}
}
