package market

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/sparegpu/spare/p2p"
)

// ErrOutputDirExists reports a job's output directory that exists
// already: Spare writes outputs only into a directory it creates fresh
// for the job, never into an existing one.
var ErrOutputDirExists = errors.New("output directory exists already")

// Owner is the user and group a job's output directory and files are
// given (the daemon fetches outputs for the local user who submitted).
type Owner struct{ UID, GID int }

// outputRel checks an output path named by a provider's Result and
// returns it relative to OutputDir: an absolute path strictly under
// /output, in clean segments (no empty, "." or ".." segment), each at most
// MaxNameLen bytes of printable UTF-8, the whole at most MaxPathLen bytes.
func outputRel(p string) (string, error) {
	if len(p) > MaxPathLen {
		return "", fmt.Errorf("%d bytes, at most %d", len(p), MaxPathLen)
	}
	if !printable(p) {
		return "", errors.New("want printable UTF-8 without control characters")
	}
	rel, ok := strings.CutPrefix(p, OutputDir+"/")
	if !ok || rel == "" {
		return "", fmt.Errorf("want a file under %s/", OutputDir)
	}
	for seg := range strings.SplitSeq(rel, "/") {
		switch {
		case seg == "":
			return "", errors.New("empty path segment")
		case seg == "." || seg == "..":
			return "", fmt.Errorf("%q segment", seg)
		case len(seg) > MaxNameLen:
			return "", fmt.Errorf("a name of %d bytes, at most %d", len(seg), MaxNameLen)
		case strings.ContainsRune(seg, '\\'):
			return "", errors.New("backslash in a name")
		}
	}
	if path.Clean(p) != p {
		return "", errors.New("not a clean path")
	}
	return rel, nil
}

// outputs lists the accepted result's outputs and, when dir is set,
// downloads each by digest from the provider that produced it (its blob
// store serves them after the job stream closed) into a directory created
// fresh for the job, dir/<job-id>, which it returns. The provider names
// the paths: every file is created exclusively through an os.Root opened
// on that directory, so nothing is written outside it, nothing existing
// is replaced and no symbolic link is followed. On an error the job's
// directory is removed.
func (r *Requester) outputs(ctx context.Context, o replicaOutcome, dir string, owner *Owner, budget ByteSize, report progressFunc) (_ []SubmitOutput, jobDir string, err error) {
	out := []SubmitOutput{}
	if dir == "" {
		for _, f := range o.result.Outputs {
			out = append(out, SubmitOutput{Path: strings.TrimPrefix(f.Path, OutputDir+"/"), SHA256: digestHex(f.Digest)})
		}
		return out, "", nil
	}
	if err := o.job.Validate(); err != nil {
		return out, "", err
	}
	if err := r.withinBudget(o, budget); err != nil {
		return out, "", err
	}
	fresh := filepath.Join(dir, string(o.job))
	if err := os.Mkdir(fresh, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return out, "", fmt.Errorf("%w: %s (move it away and submit again)", ErrOutputDirExists, fresh)
		}
		return out, "", fmt.Errorf("creating the job's output directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(fresh)
		}
	}()
	jobDir = fresh
	root, err := os.OpenRoot(jobDir)
	if err != nil {
		return out, "", err
	}
	defer root.Close()
	if owner != nil {
		if err := root.Chown(".", owner.UID, owner.GID); err != nil {
			return out, "", fmt.Errorf("giving %s to user %d: %w", jobDir, owner.UID, err)
		}
	}
	for i, f := range o.result.Outputs {
		rel, err := outputRel(f.Path)
		if err != nil {
			return out, "", fmt.Errorf("%w: result outputs[%d].path %q: %v", ErrBadMessage, i, clip(f.Path), err)
		}
		d, err := p2p.ParseDigest(string(f.Digest))
		if err != nil {
			return out, "", fmt.Errorf("%w: result outputs[%d].digest: %w", ErrBadMessage, i, err)
		}
		if err := mkdirs(root, path.Dir(rel), owner); err != nil {
			return out, "", fmt.Errorf("output %s: %w", f.Path, err)
		}
		if err := r.fetchOutput(ctx, o, root, rel, d, int64(f.Size), owner, report); err != nil {
			return out, "", fmt.Errorf("fetching output %s: %w", f.Path, err)
		}
		out = append(out, SubmitOutput{Path: rel, SHA256: digestHex(f.Digest), File: filepath.Join(jobDir, filepath.FromSlash(rel))})
	}
	return out, jobDir, nil
}

// withinBudget checks a result's outputs against the job's output budget
// before anything is fetched: their declared sizes together, which also
// bound each fetch. A provider whose sandbox caps /output at the budget
// never declares more; one that does is marked in the trust record.
func (r *Requester) withinBudget(o replicaOutcome, budget ByteSize) error {
	var total ByteSize
	for _, f := range o.result.Outputs {
		if f.Size < 0 || total+f.Size < total {
			total = budget + 1
			break
		}
		total += f.Size
	}
	if total <= budget {
		return nil
	}
	if r.Trust != nil {
		if _, err := r.Trust.Record(o.peer, false, time.Now()); err != nil {
			r.Log.Warn("recording outputs over the budget", "provider", o.peer, "err", err)
		}
	}
	return fmt.Errorf("%w: the provider declared %s of outputs, the job allows %s (max_output)", ErrOutputBudget, total, budget)
}

// fetchOutput creates rel in root exclusively (O_EXCL: an existing file
// or link there is an error, never replaced or followed) and downloads d
// into it.
func (r *Requester) fetchOutput(ctx context.Context, o replicaOutcome, root *os.Root, rel string, d p2p.Digest, size int64, owner *Owner, report progressFunc) (err error) {
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if owner != nil {
		if err := f.Chown(owner.UID, owner.GID); err != nil {
			return err
		}
	}
	if err := r.Host.FetchBlobTo(ctx, o.peerID, d, downloading(f, report, o.peerID, rel, size), p2p.FetchOptions{MaxSize: max(size, 1)}); err != nil {
		return err
	}
	return f.Sync()
}

// mkdirs creates the directories of rel in root one by one, giving each
// it creates to owner. One that exists is kept: only this job's outputs
// made it, in the directory created fresh for them.
func mkdirs(root *os.Root, rel string, owner *Owner) error {
	if rel == "." {
		return nil
	}
	cur := ""
	for seg := range strings.SplitSeq(rel, "/") {
		cur = path.Join(cur, seg)
		err := root.Mkdir(cur, 0o755)
		switch {
		case errors.Is(err, fs.ErrExist):
			fi, serr := root.Lstat(cur)
			if serr != nil {
				return serr
			}
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", cur)
			}
			continue
		case err != nil:
			return err
		}
		if owner != nil {
			if err := root.Lchown(cur, owner.UID, owner.GID); err != nil {
				return err
			}
		}
	}
	return nil
}

func digestHex(d Digest) string { return strings.TrimPrefix(string(d), "sha256:") }
