package packaging

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// TestReproducible builds Spare and both packages a second time, from a
// copy of this tree in another directory, under another time zone, umask
// and temporary directory, minutes after the first build (the one the
// other packaging tests use), and wants byte-identical .deb and .rpm
// files: the same commit gives the same packages (packaging/README.md).
// The second build is a full `make build` (Go's build cache may supply
// compiled packages, as it would to anyone rebuilding; the link, the
// notices, stripping and packing all run again) and build.sh.
//
// On a mismatch it says which package differs and where: the binaries
// before packing, the archive members, the files inside, the .rpm's
// header tags.
func TestReproducible(t *testing.T) {
	testenv.NeedCommand(t, "git", "git")
	testenv.NeedCommand(t, "tar", "tar")
	testenv.NeedCommand(t, "rpm", "rpm")
	a := buildPackages(t)

	dir := t.TempDir()
	src := filepath.Join(dir, "elsewhere", "spare")
	out := filepath.Join(dir, "out")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{out, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, "..", src)

	// Not the first build's environment: another time zone, umask and
	// TMPDIR, and no SOURCE_DATE_EPOCH (build.sh takes it from git).
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "SOURCE_DATE_EPOCH=") || strings.HasPrefix(kv, "TZ=") || strings.HasPrefix(kv, "TMPDIR=")
	})
	env = append(env, "TZ=XST+11", "TMPDIR="+tmp, "CGO_ENABLED=1")
	run := func(script string, args ...string) string {
		t.Helper()
		cmd := exec.Command("sh", append([]string{"-c", "umask 002; " + script, "sh"}, args...)...)
		cmd.Dir = src
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		o, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s%s", script, err, o, tail(stderr.Bytes(), 3000))
		}
		return string(o)
	}
	start := time.Now()
	bin := filepath.Join(out, "spare")
	run(`exec make --no-print-directory build BIN="$1" VERSION="$2"`, bin, testVersion)
	t.Logf("second build of spare in %v", time.Since(start).Round(time.Second))
	start = time.Now()
	printed := run(`SPARE_BIN="$1" SPARE_VERSION=0.0.0+test SPARE_ARCH="$2" exec packaging/build.sh "$3"`, bin, runtime.GOARCH, out)
	t.Logf("second build of the packages in %v", time.Since(start).Round(time.Second))
	var b packages
	for _, p := range strings.Fields(printed) {
		switch filepath.Ext(p) {
		case ".deb":
			b.deb = p
		case ".rpm":
			b.rpm = p
		}
	}
	if b.deb == "" || b.rpm == "" {
		t.Fatalf("the second build.sh did not print a .deb and an .rpm: %q", printed)
	}

	logSizes(t, a)
	noBuildPaths(t, a.bin)
	if sa, sb := sum(t, a.bin), sum(t, bin); sa != sb {
		t.Errorf("the two `make build` binaries differ (%s, %s): the packages cannot match", sa[:12], sb[:12])
	}
	if sa, sb := sum(t, a.deb), sum(t, b.deb); sa != sb {
		t.Errorf("the .deb differs between the builds: %s and %s\n%s", sa, sb, debDiff(t, a.deb, b.deb))
	} else {
		t.Logf("%s: sha256 %s in both builds", filepath.Base(a.deb), sa)
	}
	if sa, sb := sum(t, a.rpm), sum(t, b.rpm); sa != sb {
		t.Errorf("the .rpm differs between the builds: %s and %s\n%s", sa, sb, rpmDiff(t, a.rpm, b.rpm))
	} else {
		t.Logf("%s: sha256 %s in both builds", filepath.Base(a.rpm), sa)
	}
}

// knownPathLeaks are the build machine's paths Go's -trimpath does not
// remove, each with its reason; the two builds agree on them only when
// the module cache is at the same place (packaging/README.md).
var knownPathLeaks = []string{
	// gnark-crypto's field arithmetic #includes assembly from another
	// directory; the assembler records that file by its absolute path
	// (cmd/go rewrites only the package's own directory). Overriding it
	// with -asmflags=…=-trimpath would record the flag, with the same
	// path, in the build information instead.
	"github.com/consensys/gnark-crypto@",
}

// noBuildPaths fails when the binary names the repository's directory,
// GOROOT, GOPATH or the module cache, other than knownPathLeaks: a
// second build elsewhere could not match it.
func noBuildPaths(t *testing.T, bin string) {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{repo + "/"}
	for _, v := range []string{"GOROOT", "GOPATH", "GOMODCACHE"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", v, err)
		}
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			if p != "" {
				paths = append(paths, p+"/")
			}
		}
	}
	modcache := paths[len(paths)-1]
	reported := map[string]bool{}
	for _, p := range paths {
		for rest := data; ; {
			i := bytes.Index(rest, []byte(p))
			if i < 0 {
				break
			}
			end := i + len(p)
			for end < len(rest) && rest[end] > ' ' && rest[end] < 0x7f {
				end++
			}
			found := string(rest[i:end])
			rest = rest[end:]
			if !reported[found] && !slices.ContainsFunc(knownPathLeaks, func(k string) bool { return strings.HasPrefix(found, modcache+k) }) {
				reported[found] = true
				t.Errorf("the binary names a path of the build machine: %s", found)
			}
		}
	}
}

// logSizes logs each package's size and the size of what it installs
// (dpkg's Installed-Size, in KiB; rpm's SIZE, in bytes).
func logSizes(t *testing.T, p packages) {
	t.Helper()
	for _, q := range []struct{ pkg, what string }{
		{p.deb, "Installed-Size (KiB)"},
		{p.rpm, "SIZE (bytes)"},
	} {
		fi, err := os.Stat(q.pkg)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		if filepath.Ext(q.pkg) == ".deb" {
			out, err = exec.Command("dpkg-deb", "-f", q.pkg, "Installed-Size").Output()
		} else {
			out, err = exec.Command("rpm", "-qp", "--qf", "%{SIZE}", q.pkg).Output()
		}
		if err != nil {
			t.Fatalf("the installed size of %s: %v", q.pkg, err)
		}
		t.Logf("%s: %d bytes; installs %s %s", filepath.Base(q.pkg), fi.Size(), strings.TrimSpace(string(out)), q.what)
	}
}

// copyTree copies the source tree at root to dst as a checkout of the
// same commit with the same changes: a clone sharing root's objects,
// then every tracked and untracked file that git does not ignore (what a
// build may read) copied over it, deletions included.
func copyTree(t *testing.T, root, dst string) {
	t.Helper()
	if out, err := exec.Command("git", "clone", "-q", "--shared", "--no-checkout", root, dst).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = root
	list, err := ls.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var present bytes.Buffer
	for _, f := range bytes.Split(list, []byte{0}) {
		if len(f) == 0 {
			continue
		}
		if _, err := os.Lstat(filepath.Join(root, string(f))); errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree: deleted in the copy too
		}
		present.Write(f)
		present.WriteByte(0)
	}
	pack := exec.Command("tar", "--null", "-T", "-", "-cf", "-")
	pack.Dir = root
	pack.Stdin = &present
	unpack := exec.Command("tar", "-xf", "-", "-C", dst)
	pipe, err := pack.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	unpack.Stdin = pipe
	var packErr, unpackErr bytes.Buffer
	pack.Stderr, unpack.Stderr = &packErr, &unpackErr
	if err := unpack.Start(); err != nil {
		t.Fatal(err)
	}
	if err := pack.Run(); err != nil {
		t.Fatalf("tar -c: %v\n%s", err, packErr.String())
	}
	if err := unpack.Wait(); err != nil {
		t.Fatalf("tar -x: %v\n%s", err, unpackErr.String())
	}
	// HEAD and the index at root's commit (root may be on a detached
	// HEAD), so that git (describe --dirty, the Go toolchain's VCS
	// stamp) sees the same commit and changes as in root.
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v", err)
	}
	reset := exec.Command("git", "reset", "-q", strings.TrimSpace(string(head)))
	reset.Dir = dst
	if out, err := reset.CombinedOutput(); err != nil {
		t.Fatalf("git reset: %v\n%s", err, out)
	}
}

func sum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// debDiff says how two .deb files differ: the ar members, the listing
// of the files (modes, owners, sizes, times) and each file whose
// content differs.
func debDiff(t *testing.T, a, b string) string {
	t.Helper()
	var s strings.Builder
	members := func(p string) string {
		out, err := exec.Command("ar", "tv", p).CombinedOutput()
		if err != nil {
			return fmt.Sprintf("ar tv: %v\n%s", err, out)
		}
		return string(out)
	}
	s.WriteString(lineDiff("ar members (ar tv)", members(a), members(b)))
	names, _ := exec.Command("ar", "t", a).Output()
	for _, m := range strings.Fields(string(names)) {
		ha, _ := exec.Command("ar", "p", a, m).Output()
		hb, _ := exec.Command("ar", "p", b, m).Output()
		if !bytes.Equal(ha, hb) {
			fmt.Fprintf(&s, "member %s differs\n", m)
		}
	}
	listing := func(p string) string {
		out, _ := exec.Command("dpkg-deb", "-c", p).CombinedOutput()
		return string(out)
	}
	s.WriteString(lineDiff("files (dpkg-deb -c)", listing(a), listing(b)))
	ra, rb := t.TempDir(), t.TempDir()
	for p, root := range map[string]string{a: ra, b: rb} {
		if out, err := exec.Command("dpkg-deb", "-R", p, root).CombinedOutput(); err != nil {
			fmt.Fprintf(&s, "dpkg-deb -R %s: %v\n%s", p, err, out)
			return s.String()
		}
	}
	s.WriteString(treeDiff(ra, rb))
	return s.String()
}

// rpmDiff says how two .rpm files differ: every header tag (rpm --xml)
// and each file's size, time, digest, mode and owner (rpm --dump).
func rpmDiff(t *testing.T, a, b string) string {
	t.Helper()
	query := func(p string, args ...string) string {
		out, err := exec.Command("rpm", append(append([]string{"-qp"}, args...), p)...).CombinedOutput()
		if err != nil {
			return fmt.Sprintf("rpm -qp %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	return lineDiff("header tags (rpm -qp --xml)", tagged(query(a, "--xml")), tagged(query(b, "--xml"))) +
		lineDiff("files (rpm -qp --dump)", query(a, "--dump"), query(b, "--dump"))
}

// tagged puts each value line of `rpm --xml` after its tag's name
// (<rpmTag name="Buildhost"> … <string>vm</string> → "Buildhost: vm").
func tagged(x string) string {
	var out strings.Builder
	tag := ""
	for _, l := range strings.Split(x, "\n") {
		l = strings.TrimSpace(l)
		if name, ok := strings.CutPrefix(l, `<rpmTag name="`); ok {
			tag, _, _ = strings.Cut(name, `"`)
			continue
		}
		if l == "" || strings.HasPrefix(l, "</rpmTag") || strings.HasPrefix(l, "<rpmHeader") || strings.HasPrefix(l, "</rpmHeader") {
			continue
		}
		fmt.Fprintf(&out, "%s: %s\n", tag, l)
	}
	return out.String()
}

// treeDiff lists the files whose content or mode differs between two
// unpacked packages, or that only one has.
func treeDiff(a, b string) string {
	hashes := func(root string) map[string]string {
		m := map[string]string{}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			info, _ := d.Info()
			data, _ := os.ReadFile(p)
			h := sha256.Sum256(data)
			m[rel] = fmt.Sprintf("%v %x", info.Mode(), h[:8])
			return nil
		})
		return m
	}
	ha, hb := hashes(a), hashes(b)
	var diff []string
	for f, h := range ha {
		if hb[f] != h {
			diff = append(diff, fmt.Sprintf("  %s: %s | %s", f, h, hb[f]))
		}
	}
	for f, h := range hb {
		if _, ok := ha[f]; !ok {
			diff = append(diff, fmt.Sprintf("  %s: (none) | %s", f, h))
		}
	}
	if len(diff) == 0 {
		return "the unpacked files are the same (the archives' framing differs)\n"
	}
	slices.Sort(diff)
	return "files that differ (mode, sha256 prefix):\n" + strings.Join(diff, "\n") + "\n"
}

// lineDiff lists the lines only one of two texts has, each once, at
// most 40.
func lineDiff(what, a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	seen := map[string]bool{}
	only := func(sign string, l string, other []string) {
		if !seen[sign+l] && !slices.Contains(other, l) {
			seen[sign+l] = true
			out = append(out, "  "+sign+" "+l)
		}
	}
	for _, l := range la {
		only("-", l, lb)
	}
	for _, l := range lb {
		only("+", l, la)
	}
	if len(out) == 0 {
		return ""
	}
	if len(out) > 40 {
		out = append(out[:40], fmt.Sprintf("  … %d more", len(out)-40))
	}
	return what + ", first build (-) and second (+):\n" + strings.Join(out, "\n") + "\n"
}
