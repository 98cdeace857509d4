package provider

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/hostile"
	"github.com/sparegpu/spare/market"
)

// hostilePaths are output paths a hostile provider names to plant files
// in the requester's home when --output is the home directory: every one
// passes the message's validation, and must land inside the job's own
// directory.
var hostilePaths = []string{
	"/output/.bashrc",
	"/output/.ssh/authorized_keys",
	"/output/.config/autostart/x.desktop",
	"/output/escape/planted",
}

// TestHostileOutputPaths plays a provider that runs the job honestly but
// names its outputs so as to overwrite the requester's files: an existing
// .bashrc in the output directory, authorized_keys through a .ssh that is
// a link to a directory outside it, a directory reached through a link.
// The requester must write them only under OUTPUT/<job-id>, replace
// nothing and follow no link.
func TestHostileOutputPaths(t *testing.T) {
	prov := startProvider(t, 100, market.WalletCredit{}, dishonest(hostile.PlantOutputs(hostilePaths...)))
	req := testRequester(t)
	connect(t, req, prov)

	// The requester's --output: a home directory with a .bashrc, and
	// links out of it to a directory the provider must not reach.
	home, outside := t.TempDir(), t.TempDir()
	const bashrc = "# the user's own\n"
	if err := os.WriteFile(filepath.Join(home, ".bashrc"), []byte(bashrc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{".ssh", "escape"} {
		if err := os.Symlink(outside, filepath.Join(home, l)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	res, err := req.Submit(ctx, imageSpec(t, req, "render"), market.SubmitOptions{OutputDir: home, Stdout: &logs, Stderr: &logs, Discovery: 10 * time.Second})
	t.Logf("result %+v, err %v", res, err)

	if b, rerr := os.ReadFile(filepath.Join(home, ".bashrc")); rerr != nil || string(b) != bashrc {
		t.Errorf("the requester's .bashrc was replaced: %d bytes, %v", len(b), rerr)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("written through a link outside the output directory: %v", ents)
	}
	for _, l := range []string{".ssh", "escape"} {
		if fi, lerr := os.Lstat(filepath.Join(home, l)); lerr != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer the link it was: %v", l, lerr)
		}
	}
	if _, serr := os.Stat(filepath.Join(home, ".config")); serr == nil {
		t.Error(".config was created in the output directory itself")
	}
	if err != nil {
		t.Fatalf("Submit: %v (logs: %s)", err, logs.String())
	}
	want := filepath.Join(home, res.Job)
	if res.OutputDir != want {
		t.Fatalf("output_dir %q, want %q", res.OutputDir, want)
	}
	if len(res.Outputs) != len(hostilePaths) {
		t.Fatalf("%d outputs, want %d", len(res.Outputs), len(hostilePaths))
	}
	for _, o := range res.Outputs {
		if !strings.HasPrefix(o.File, want+string(filepath.Separator)) {
			t.Errorf("output %s written to %s, outside %s", o.Path, o.File, want)
		}
		fi, err := os.Lstat(o.File)
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("output %s: %v", o.File, err)
		}
	}
}
