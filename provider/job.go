package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/sandbox"
)

// start fetches the image and inputs by digest from the requester,
// imports the image (the archive's digest is verified by the fetch, a
// registry image's manifest digest by the pull) and starts the job under
// the governor. It runs in its own goroutine while the session loop goes
// on, so it reads only what it is given, never r.sess.
func (r *providerRun) start(ctx context.Context, job market.JobID, spec *market.JobSpec, terms market.AgreementMsg) (*node.RunningJob, error) {
	p := r.p
	sb := p.cfg.Sandbox
	dir := p.ret.jobDir(job)
	if err := os.MkdirAll(filepath.Join(dir, "input"), 0o700); err != nil {
		return nil, err
	}
	fctx, cancel := context.WithTimeout(ctx, p.fetchBound(spec))
	defer cancel()
	var img sandbox.Image
	if spec.Image.Blob {
		path, err := r.fetch(fctx, spec.Image.Digest, int64(spec.Image.Size))
		if err != nil {
			return nil, fmt.Errorf("fetching the image: %w", err)
		}
		if img, err = p.images.importBlob(ctx, sb, spec.Image.Digest, path); err != nil {
			return nil, fmt.Errorf("importing the image: %w", err)
		}
	} else {
		var err error
		if img, err = sb.Pull(ctx, spec.Image.Ref, sandbox.ImportOptions{Digest: string(spec.Image.Digest)}); err != nil {
			return nil, fmt.Errorf("pulling the image: %w", err)
		}
	}
	// Kept for the requester's next job, least recently used first out;
	// never removed while this job uses it.
	r.imagePins = []string{img.Name, img.Digest}
	p.ret.pin(r.imagePins...)
	if err := sb.TouchCached(ctx, img.Name, time.Now()); err != nil {
		return nil, err
	}
	var inputs []string
	for _, in := range spec.Inputs {
		path, err := r.fetch(fctx, in.Digest, int64(in.Size))
		if err != nil {
			return nil, fmt.Errorf("fetching input %s: %w", in.Name, err)
		}
		dst := filepath.Join(dir, "input", in.Name) // Name is a validated base name
		_ = os.Remove(dst)
		if err := os.Link(path, dst); err != nil {
			if err := copyPath(path, dst); err != nil {
				return nil, fmt.Errorf("input %s: %w", in.Name, err)
			}
		}
		inputs = append(inputs, dst)
	}
	_, usable := p.capacity()
	var devices, gpus []string
	for _, d := range usable {
		if d.UUID != node.CPUDeviceUUID && uint32(len(gpus)) < spec.Resources.GPUs {
			gpus = append(gpus, sandbox.GPUDevice(d.UUID))
			devices = append(devices, d.UUID)
		}
	}
	if uint32(len(gpus)) < spec.Resources.GPUs {
		return nil, fmt.Errorf("%d GPUs free, the job needs %d", len(gpus), spec.Resources.GPUs)
	}
	if len(devices) == 0 {
		devices = []string{node.CPUDeviceUUID}
		if len(usable) > 0 {
			devices = []string{usable[0].UUID}
		}
	}
	// The job may run until the agreement's end, whatever the fetch took.
	left := time.Until(time.Unix(int64(terms.StartsAt+terms.MaxDurationSeconds), 0))
	if left < time.Second {
		return nil, errors.New("the agreed duration passed while fetching")
	}
	js := sandbox.JobSpec{ID: r.jobID, Image: img.Digest, Args: spec.Command, Env: spec.Env, Inputs: inputs, GPUs: gpus,
		Limits: sandbox.Limits{MilliCPU: int64(spec.Resources.CPUs), MemoryBytes: int64(spec.Resources.Memory), Timeout: left.Truncate(time.Second),
			OutputBytes: int64(spec.OutputBudget())},
		Stdout: logWriter{"stdout", r.logs}, Stderr: logWriter{"stderr", r.logs}}
	out := filepath.Join(dir, "output")
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, err
	}
	return p.d.StartJob(ctx, js, devices, out)
}

// fetchBound is how long fetching spec's image and inputs may take:
// fetchSlack plus their declared size at fetchRate.
func (p *Provider) fetchBound(spec *market.JobSpec) time.Duration {
	var size int64
	if spec.Image.Blob {
		size += int64(spec.Image.Size)
	}
	for _, in := range spec.Inputs {
		size += int64(in.Size)
	}
	return p.fetchSlack + time.Duration(size/p.fetchRate)*time.Second
}

// fetch gets a blob from the requester into the store, unless held.
func (r *providerRun) fetch(ctx context.Context, d market.Digest, size int64) (string, error) {
	dg, err := p2p.ParseDigest(string(d))
	if err != nil {
		return "", err
	}
	path := r.p.store.Path(dg)
	if _, err := os.Stat(path); err == nil {
		r.p.ret.touchBlob(dg)
		return path, nil
	}
	if err := os.MkdirAll(r.p.store.Dir, 0o700); err != nil {
		return "", err
	}
	return path, r.p.cfg.Host.FetchBlob(ctx, r.peer, dg, path, p2p.FetchOptions{MaxSize: max(size, 1)})
}

// OutputGrant is how long a job's requester may fetch its outputs from
// this provider; no other peer may.
const OutputGrant = 24 * time.Hour

// exited turns the job's end into the final receipt and the Result;
// outputs go into the blob store, served by digest to the requester.
func (r *providerRun) exited(ctx context.Context, res node.JobResult) error {
	ex := market.Exited{ExitCode: res.Result.ExitCode, LogTail: clipTail(res.Result.LogTail)}
	switch {
	case res.Err != nil:
		ex.Error, ex.ExitCode = market.ResultInternal, -1
		r.log.Warn("job failed", "err", res.Err)
	case r.cancelled:
		ex.Error = market.ResultCancelled
	case r.closeSeen:
		ex.Error = market.ResultChannelClosing
	case res.Result.Reason == sandbox.ReasonStopped && r.preempted != "":
		ex.Error = market.ResultPreempted
		r.ownerEnded = true
	case res.Result.Reason == sandbox.ReasonTimeout:
		ex.Error = market.ResultTimeout
	case res.Result.Reason == sandbox.ReasonMemory:
		ex.Error = market.ResultMemory
	case res.Result.Reason == sandbox.ReasonOutputFull:
		ex.Error = market.ResultOutputFull
	}
	for _, o := range res.Outputs {
		if r.p.faults.Tamper != nil {
			if err := r.p.faults.Tamper(filepath.Join(r.outDir(), filepath.FromSlash(o.Path))); err != nil {
				return err
			}
		}
		if len(ex.Outputs) == market.MaxResultFiles {
			break
		}
		out, err := r.storeOutput(o)
		if err != nil {
			return err
		}
		ex.Outputs = append(ex.Outputs, out)
	}
	if r.p.faults.RenameOutputs != nil {
		ex.Outputs = r.p.faults.RenameOutputs(ex.Outputs)
	}
	u, _ := r.usage(true)
	ex.Final = u
	r.meterFrom = 0
	return r.step(ctx, ex)
}

func (r *providerRun) outDir() string {
	return filepath.Join(r.p.ret.jobDir(r.sess.JobID), "output")
}

func (r *providerRun) storeOutput(o sandbox.OutputFile) (market.Output, error) {
	f, err := os.Open(filepath.Join(r.outDir(), filepath.FromSlash(o.Path)))
	if err != nil {
		return market.Output{}, err
	}
	defer f.Close()
	d, n, err := r.p.store.Put(f, 0)
	if err != nil {
		return market.Output{}, err
	}
	r.p.cfg.Host.GrantBlob(r.peer, d, OutputGrant)
	return market.Output{Path: market.OutputDir + "/" + o.Path, Digest: market.DigestOf(d), Size: market.ByteSize(n)}, nil
}

func clipTail(s string) string {
	if len(s) <= market.MaxLogTail {
		return s
	}
	s = s[len(s)-market.MaxLogTail:]
	for i := 0; i < 4 && i < len(s); i++ { // start on a rune boundary
		if s[i]&0xc0 != 0x80 {
			return s[i:]
		}
	}
	return s
}

// logWriter chops the job's output into LogChunks for the session loop;
// when the requester's stream is slower than the job, chunks are dropped
// (the sandbox keeps the log and its tail goes out in the Result).
type logWriter struct {
	stream string
	ch     chan<- market.LogChunk
}

func (w logWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), market.MaxLogChunk)
		select {
		case w.ch <- market.LogChunk{Stream: w.stream, Data: append([]byte(nil), b[:k]...)}:
		default:
		}
		b = b[k:]
	}
	return n, nil
}

var _ io.Writer = logWriter{}

func copyPath(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
