package market

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testpeer"
	"github.com/sparegpu/spare/p2p"
)

func TestOutputRel(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen+1)
	for _, c := range []struct {
		name, path, want string // want: the relative path; empty: refused
	}{
		{"file", "/output/x", "x"},
		{"nested", "/output/a/b/c.png", "a/b/c.png"},
		{"dotfile", "/output/.bashrc", ".bashrc"},
		{"name at the limit", "/output/" + strings.Repeat("a", MaxNameLen), strings.Repeat("a", MaxNameLen)},
		{"the output directory itself", "/output", ""},
		{"trailing slash", "/output/", ""},
		{"relative", "output/x", ""},
		{"another absolute path", "/etc/passwd", ""},
		{"prefix only", "/outputs/x", ""},
		{"dot-dot", "/output/../x", ""},
		{"dot-dot inside", "/output/a/../../x", ""},
		{"dot", "/output/./x", ""},
		{"empty segment", "/output/a//b", ""},
		{"trailing slash on a file", "/output/a/", ""},
		{"NUL", "/output/a\x00b", ""},
		{"newline", "/output/a\nb", ""},
		{"escape", "/output/\x1b[2J", ""},
		{"DEL", "/output/a\x7f", ""},
		{"C1 control", "/output/a\u009bb", ""},
		{"invalid UTF-8", "/output/\xff", ""},
		{"backslash", "/output/..\\x", ""},
		{"overlong name", "/output/" + long, ""},
		{"overlong path", "/output/" + strings.Repeat("a/", MaxPathLen/2), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := outputRel(c.path)
			if c.want == "" {
				if err == nil {
					t.Fatalf("outputRel(%q) = %q, want an error", c.path, got)
				}
				res := &Result{JobID: newJobID(), Outputs: []Output{{Path: c.path, Digest: DigestOf([32]byte{}), Size: 1}}}
				if err := res.Validate(); !errors.Is(err, ErrBadMessage) || !strings.Contains(err.Error(), "outputs[0].path") {
					t.Fatalf("Result.Validate = %v, want ErrBadMessage naming outputs[0].path", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("outputRel(%q) = %q, %v; want %q", c.path, got, err, c.want)
			}
		})
	}
}

// FuzzOutputRel: whatever a provider names, an accepted path stays inside
// the job's directory, segment by segment.
func FuzzOutputRel(f *testing.F) {
	for _, s := range []string{"/output/x", "/output/../x", "/output//x", "/output/a/./b", "/output", "/output/\x00", "/output/.ssh/authorized_keys"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, err := outputRel(p)
		if err != nil {
			return
		}
		if !filepath.IsLocal(rel) || filepath.Clean(rel) != rel || OutputDir+"/"+rel != p {
			t.Fatalf("outputRel(%q) = %q: not a clean local path", p, rel)
		}
		for seg := range strings.SplitSeq(rel, "/") {
			if seg == "" || seg == "." || seg == ".." || len(seg) > MaxNameLen || !printable(seg) {
				t.Fatalf("outputRel(%q): segment %q", p, seg)
			}
		}
		if !printable(p) || len(p) > MaxPathLen {
			t.Fatalf("outputRel(%q) accepted", p)
		}
	})
}

// outputPeer serves blobs to the requester's host: the provider's side
// of fetching outputs.
func outputPeer(t *testing.T) (*Requester, *p2p.Host, p2p.FileStore) {
	t.Helper()
	dir := t.TempDir()
	req := &Requester{Host: testpeer.Host(t, filepath.Join(dir, "req"))}
	prov := testpeer.Host(t, filepath.Join(dir, "prov"))
	store := p2p.FileStore{Dir: filepath.Join(dir, "blobs")}
	prov.ServeBlobs(store)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := req.Host.Connect(ctx, prov.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	return req, prov, store
}

// TestOutputsFreshJobDir feeds the requester's output fetch crafted
// Results: outputs land only in OUTPUT/<job-id>, created fresh; an
// existing job directory, clashing paths and paths that leave the
// directory are refused, and nothing is written outside it.
func TestOutputsFreshJobDir(t *testing.T) {
	req, prov, store := outputPeer(t)
	d, n, err := store.Put(strings.NewReader("output bytes\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	prov.GrantBlob(req.Host.ID(), d, time.Hour)
	out := func(paths ...string) replicaOutcome {
		res := &Result{JobID: newJobID()}
		for _, p := range paths {
			res.Outputs = append(res.Outputs, Output{Path: p, Digest: DigestOf(d), Size: ByteSize(n)})
		}
		return replicaOutcome{peer: prov.ID().String(), peerID: prov.ID(), job: res.JobID, result: res}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("over the budget", func(t *testing.T) {
		req.Trust = NewMemTrust()
		defer func() { req.Trust = nil }()
		base := t.TempDir()
		three := out("/output/a", "/output/b", "/output/c")
		if _, _, err := req.outputs(ctx, three, base, nil, 3*ByteSize(n)-1, nil); !errors.Is(err, ErrOutputBudget) {
			t.Fatalf("three outputs of %d bytes under a budget of %d: %v, want ErrOutputBudget", n, 3*n-1, err)
		}
		huge := out("/output/a")
		huge.result.Outputs[0].Size = 2 << 30 // declared; the fetch would stop at it
		if _, _, err := req.outputs(ctx, huge, base, nil, DefaultMaxOutput, nil); !errors.Is(err, ErrOutputBudget) {
			t.Fatalf("a declared 2 GiB output under the default budget: %v, want ErrOutputBudget", err)
		}
		if ents, _ := os.ReadDir(base); len(ents) != 0 {
			t.Errorf("refused outputs left %v", ents)
		}
		if tr := req.Trust.Trust(prov.ID().String()); tr.Invalid != 2 {
			t.Errorf("trust record %+v: want both refusals marked", tr)
		}
		if _, _, err := req.outputs(ctx, out("/output/a", "/output/b", "/output/c"), base, nil, 3*ByteSize(n), nil); err != nil {
			t.Fatalf("three outputs exactly at the budget: %v", err)
		}
	})

	t.Run("fresh directory", func(t *testing.T) {
		base := t.TempDir()
		o := out("/output/.bashrc", "/output/a/b/c")
		got, jobDir, err := req.outputs(ctx, o, base, nil, DefaultMaxOutput, nil)
		if err != nil {
			t.Fatal(err)
		}
		if jobDir != filepath.Join(base, string(o.job)) || len(got) != 2 {
			t.Fatalf("job dir %q, outputs %+v", jobDir, got)
		}
		for _, g := range got {
			if b, err := os.ReadFile(g.File); err != nil || string(b) != "output bytes\n" || filepath.Dir(g.File) != filepath.Join(jobDir, filepath.Dir(g.Path)) {
				t.Fatalf("output %+v: %q, %v", g, b, err)
			}
		}
		if _, err := os.Stat(filepath.Join(base, ".bashrc")); err == nil {
			t.Fatal(".bashrc written outside the job's directory")
		}
	})
	t.Run("existing job directory", func(t *testing.T) {
		base := t.TempDir()
		o := out("/output/x")
		planted := filepath.Join(base, string(o.job))
		if err := os.Symlink(t.TempDir(), planted); err != nil {
			t.Fatal(err)
		}
		if _, _, err := req.outputs(ctx, o, base, nil, DefaultMaxOutput, nil); !errors.Is(err, ErrOutputDirExists) {
			t.Fatalf("err %v, want ErrOutputDirExists", err)
		}
		if ents, _ := os.ReadDir(planted); len(ents) != 0 {
			t.Fatalf("wrote into the existing directory: %v", ents)
		}
	})
	for _, c := range []struct {
		name  string
		paths []string
		want  error // nil: any error
	}{
		{"dot-dot", []string{"/output/../escaped"}, ErrBadMessage},
		{"absolute", []string{"/escaped"}, ErrBadMessage},
		{"empty segment", []string{"/output/a//b"}, ErrBadMessage},
		{"a file, then a file under it", []string{"/output/a", "/output/a/b"}, nil},
		{"twice", []string{"/output/a", "/output/a"}, os.ErrExist},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			_, jobDir, err := req.outputs(ctx, out(c.paths...), base, nil, DefaultMaxOutput, nil)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if jobDir != "" {
				t.Fatalf("job dir %q returned with an error", jobDir)
			}
			if ents, _ := os.ReadDir(base); len(ents) != 0 {
				t.Fatalf("left behind in the output directory: %v", ents)
			}
			if _, err := os.Lstat(filepath.Join(filepath.Dir(base), "escaped")); err == nil {
				t.Fatal("written outside the output directory")
			}
		})
	}
}
