package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/disk"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/sandbox"
)

// SweepTimeout bounds one sweep of the cache (containerd answering
// slowly must not hold the provider reserved).
const SweepTimeout = time.Minute

// imageKeeper is what the retainer needs of the sandbox: the images kept
// for jobs, and removing one no container uses.
type imageKeeper interface {
	CachedImages(ctx context.Context) ([]sandbox.CachedImage, error)
	RemoveCached(ctx context.Context, name string) (bool, error)
}

var _ imageKeeper = (*sandbox.Sandbox)(nil)

// retainer deletes what the provider no longer needs (see retain.go):
// job directories when their session closes, leftovers at start, and the
// cache of blobs and images past its budget after every job. Sessions pin
// what their job uses while it runs.
type retainer struct {
	jobsDir string // DATA/provider
	store   p2p.FileStore
	images  imageKeeper
	owed    func() map[p2p.Digest]bool // blobs a peer may still fetch
	// budget is what the cache may keep, given what it holds now.
	budget func(used int64) int64
	log    *slog.Logger

	sweeping sync.Mutex // one sweep at a time
	mu       sync.Mutex
	pins     map[string]int // blob digests and image names, by sessions using them
}

// diskBudget is the cache budget on the disk holding dir (cacheBudget).
func diskBudget(dir string, setting, reserve market.ByteSize, log *slog.Logger) func(int64) int64 {
	return func(used int64) int64 {
		u, err := disk.Usage(dir)
		if err != nil {
			log.Warn("reading the free disk space; keeping the cache as it is", "dir", dir, "err", err)
			return used
		}
		return cacheBudget(setting, used, u.Free, u.Total, reserve)
	}
}

// pin keeps keys (blob digests "sha256:…", image names) from sweeps
// until unpin.
func (r *retainer) pin(keys ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pins == nil {
		r.pins = map[string]int{}
	}
	for _, k := range keys {
		r.pins[k]++
	}
}

func (r *retainer) unpin(keys ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if r.pins[k]--; r.pins[k] <= 0 {
			delete(r.pins, k)
		}
	}
}

func (r *retainer) pinned(keys ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if r.pins[k] > 0 {
			return true
		}
	}
	return false
}

// jobDir is where job's inputs and outputs live on the provider.
func (r *retainer) jobDir(job market.JobID) string {
	return filepath.Join(r.jobsDir, string(job))
}

// removeJob deletes a job's directory once its session closed.
func (r *retainer) removeJob(job market.JobID) {
	if err := job.Validate(); err != nil {
		return // never a path built from an unchecked name
	}
	if err := os.RemoveAll(r.jobDir(job)); err != nil {
		r.log.Warn("removing the job's directory", "job", job, "err", err)
	}
}

// atStart removes what a provider that stopped left behind: every job
// directory (no job runs before the provider serves) and the blob
// store's unfinished files; then it sweeps.
func (r *retainer) atStart(ctx context.Context) error {
	var errs []error
	ents, err := os.ReadDir(r.jobsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("listing job directories: %w", err))
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(r.jobsDir, e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("removing a stale job directory: %w", err))
		}
	}
	freed, err := r.store.RemoveUnfinished()
	errs = append(errs, err)
	if len(ents) > 0 || freed > 0 {
		r.log.Info("removed leftovers of earlier runs", "job_dirs", len(ents), "unfinished_bytes", freed)
	}
	_, err = r.sweep(ctx)
	return errors.Join(append(errs, err)...)
}

// sweepReport says what a sweep found and deleted.
type sweepReport struct {
	Held    int64 // bytes the cache held before
	Budget  int64
	Removed []kept
}

// sweep deletes the least recently used blobs and images past the budget.
func (r *retainer) sweep(ctx context.Context) (sweepReport, error) {
	r.sweeping.Lock()
	defer r.sweeping.Unlock()
	var rep sweepReport
	blobs, err := r.store.List()
	if err != nil {
		return rep, err
	}
	var imgs []sandbox.CachedImage
	if r.images != nil {
		if imgs, err = r.images.CachedImages(ctx); err != nil {
			return rep, err
		}
	}
	owed := map[p2p.Digest]bool{}
	if r.owed != nil {
		owed = r.owed()
	}
	items := make([]kept, 0, len(blobs)+len(imgs))
	for _, b := range blobs {
		k := b.Digest.String()
		items = append(items, kept{Kind: keptBlob, Key: k, Size: b.Size, Used: b.Used, Pinned: owed[b.Digest] || r.pinned(k)})
	}
	for _, im := range imgs {
		items = append(items, kept{Kind: keptImage, Key: im.Name, Size: im.Size, Used: im.Used,
			Pinned: im.InUse || r.pinned(im.Name, im.Digest)})
	}
	for _, it := range items {
		rep.Held = satAdd(rep.Held, it.Size)
	}
	rep.Budget = r.budget(rep.Held)
	var errs []error
	for _, it := range planSweep(items, rep.Budget) {
		if r.pinned(it.Key) { // pinned since it was listed
			continue
		}
		switch it.Kind {
		case keptBlob:
			d, err := p2p.ParseDigest(it.Key)
			if err == nil {
				err = r.store.Remove(d)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
		case keptImage:
			if gone, err := r.images.RemoveCached(ctx, it.Key); err != nil || !gone {
				errs = append(errs, err)
				continue
			}
		}
		rep.Removed = append(rep.Removed, it)
	}
	if len(rep.Removed) > 0 {
		r.log.Debug("cache swept", "held", rep.Held, "budget", rep.Budget, "removed", len(rep.Removed))
	}
	return rep, errors.Join(errs...)
}

// touchBlob marks a blob used now: a sweep keeps it longer.
func (r *retainer) touchBlob(d p2p.Digest) {
	if err := r.store.Touch(d); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.log.Debug("marking a blob used", "digest", d, "err", err)
	}
}

// jobBlobs names the blobs spec's job fetches: its image archive (when
// the requester serves it) and its inputs.
func jobBlobs(spec *market.JobSpec) []string {
	var out []string
	if spec.Image.Blob {
		out = append(out, string(spec.Image.Digest))
	}
	for _, in := range spec.Inputs {
		out = append(out, string(in.Digest))
	}
	return out
}

// stopOrphan ends a job whose start completed after the session loop
// stopped listening for it (the requester went away meanwhile): it must
// not run on unmetered, nor outlive the directory it writes to.
func (r *providerRun) stopOrphan() {
	select {
	case sr := <-r.started:
		if sr.rj == nil {
			return
		}
		r.log.Info("ending a job that started after its session closed")
		if err := sr.rj.Job.Stop(context.Background(), node.EndGrace); err != nil {
			r.log.Warn("stopping job", "err", err)
		}
		<-sr.rj.Done
	default:
	}
}

// retire is the end of a session that started a job: its directory goes
// (the outputs are in the blob store), its pins are lifted, and the cache
// is swept to its budget.
func (r *providerRun) retire(ctx context.Context) {
	if r.jobID == "" {
		return
	}
	ret := r.p.ret
	ret.unpin(r.blobPins...)
	ret.unpin(r.imagePins...)
	ret.removeJob(r.sess.JobID)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SweepTimeout)
	defer cancel()
	if _, err := ret.sweep(ctx); err != nil {
		r.log.Warn("sweeping the cache", "err", err)
	}
}
