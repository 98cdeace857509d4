package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/internal/units"
	"github.com/sparegpu/spare/sandbox"
)

// resourceFlags are the limits a job asks for; shared by run and submit.
type resourceFlags struct {
	gpus    int
	cpus    string
	memory  string
	timeout time.Duration
	inputs  []string
	output  string
}

func (r *resourceFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&r.gpus, "gpus", 0, "number of GPUs the job needs (0: CPU only)")
	f.StringVar(&r.cpus, "cpus", "", "CPU cores, e.g. 2 or 0.5 (default 1)")
	f.StringVar(&r.memory, "memory", "", "memory limit, e.g. 512M or 4G (default 2G)")
	f.DurationVar(&r.timeout, "timeout", 0, "wall-clock limit, e.g. 90s or 2h (default 1h)")
	f.StringArrayVar(&r.inputs, "input", nil, "file or directory copied into /input (repeatable)")
	f.StringVar(&r.output, "output", "", "directory that receives the files the job writes to /output")
}

// limits turns the flags into sandbox limits; errors name the flag.
func (r *resourceFlags) limits() (sandbox.Limits, error) {
	var l sandbox.Limits
	var err error
	if r.cpus != "" {
		if l.MilliCPU, err = units.ParseMilliCPU(r.cpus); err != nil {
			return l, usageError{fmt.Errorf("--cpus: %w", err)}
		}
	}
	if r.memory != "" {
		if l.MemoryBytes, err = units.ParseBytes(r.memory); err != nil {
			return l, usageError{fmt.Errorf("--memory: %w", err)}
		}
	}
	if r.timeout < 0 {
		return l, usageError{fmt.Errorf("--timeout %s: must be positive", r.timeout)}
	}
	l.Timeout = r.timeout
	if r.gpus < 0 {
		return l, usageError{fmt.Errorf("--gpus %d: must be 0 or more", r.gpus)}
	}
	return l, nil
}

type runFlags struct {
	resourceFlags
	image  string
	digest string
}

// runSummary is what `spare run --json` prints.
type runSummary struct {
	Job        string               `json:"job"`
	Image      string               `json:"image"`
	Digest     string               `json:"digest"`
	ExitCode   int                  `json:"exit_code"`
	Reason     string               `json:"reason,omitempty"`
	Error      string               `json:"error,omitempty"`
	DurationMS int64                `json:"duration_ms"`
	Peaks      sandbox.Peaks        `json:"peaks"`
	Outputs    []sandbox.OutputFile `json:"outputs"`
	LogBytes   int64                `json:"log_bytes"`
	LogDropped int64                `json:"log_dropped"`
}

func newRunCmd(g *globals) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --image FILE.tar|REF [flags] [-- CMD ARGS...]",
		Short: "Run one job locally in exactly the sandbox a provider uses",
		Long: `Run one job locally in the same hardened sandbox a provider uses: no network,
read-only root, no capabilities, an unprivileged user, memory/CPU/pids limits,
inputs read-only at /input and outputs under /output. Use it to test an image
before submitting it. The exit code is the job's; 124 when it ran past --timeout.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJob(cmd, g, &f, args)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.image, "image", "", "image archive (.tar, OCI or Docker) or an imported image name/digest (required)")
	cmd.Flags().StringVar(&f.digest, "digest", "", "expected image digest (sha256:…); the run fails if the image differs")
	return cmd
}

func runJob(cmd *cobra.Command, g *globals, f *runFlags, args []string) error {
	if f.image == "" {
		return usageError{errors.New("--image is required: an image archive (FILE.tar) or an imported image name")}
	}
	lim, err := f.limits()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	sb, err := g.openSandbox(ctx)
	if err != nil {
		return err
	}
	defer sb.Close()
	gpus, err := gpuNames(f.gpus)
	if err != nil {
		return err
	}
	img, err := g.ensureImage(ctx, sb, f.image, f.digest)
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if g.json {
		stdout = stderr // the summary owns stdout
	}
	spec := sandbox.JobSpec{Image: img.Digest, Args: args, Inputs: f.inputs, GPUs: gpus, Limits: lim, Stdout: stdout, Stderr: stderr}
	if f.output != "" {
		if err := os.MkdirAll(f.output, 0o755); err != nil {
			return fmt.Errorf("--output %s: %w", f.output, err)
		}
	}
	res, outs, err := sb.Run(ctx, spec, f.output)
	if err != nil {
		if ctx.Err() != nil { // an interrupt while the job started: it is removed
			fmt.Fprintln(cmd.ErrOrStderr(), "spare: interrupted; the job was stopped and removed")
			return exitError{exitInterrupted}
		}
		return err
	}
	limitErr := res.Err(lim.WithDefaults())
	if ctx.Err() != nil {
		limitErr = errors.New("interrupted; the job was stopped and removed")
	}
	if g.json {
		s := runSummary{
			Job: res.ID, Image: img.Name, Digest: img.Digest, ExitCode: res.ExitCode, Reason: res.Reason,
			DurationMS: res.Duration.Milliseconds(), Peaks: res.Peaks, Outputs: outs,
			LogBytes: res.LogBytes, LogDropped: res.LogDropped,
		}
		if s.Outputs == nil {
			s.Outputs = []sandbox.OutputFile{}
		}
		if limitErr != nil {
			s.Error = limitErr.Error()
		}
		if err := json.NewEncoder(cmd.OutOrStdout()).Encode(s); err != nil {
			return err
		}
	}
	if limitErr != nil {
		fmt.Fprintln(stderr, "spare:", limitErr)
	}
	if res.LogDropped > 0 {
		fmt.Fprintf(stderr, "spare: the job wrote %s of logs; only the first %s were kept\n",
			units.FormatBytes(res.LogBytes), units.FormatBytes(res.LogBytes-res.LogDropped))
	}
	code := res.ExitCode
	switch {
	case ctx.Err() != nil:
		code = exitInterrupted
	case res.Reason == sandbox.ReasonTimeout:
		code = exitTimeout
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}

// openSandbox connects to containerd and removes what crashed Spare
// processes left behind.
func (g *globals) openSandbox(ctx context.Context) (*sandbox.Sandbox, error) {
	dir, err := g.resolveDataDir()
	if err != nil {
		return nil, err
	}
	sb, err := sandbox.New(ctx, sandbox.Config{Socket: g.containerd, WorkDir: filepath.Join(dir, "jobs"), Log: g.log})
	if err != nil {
		return nil, err
	}
	if rep, err := sb.CleanupLeftovers(ctx); err != nil {
		g.log.Warn("cleaning up leftovers", "err", err)
	} else if n := len(rep.Containers) + len(rep.Snapshots); n > 0 {
		g.log.Info("removed leftovers of a crashed run", "containers", rep.Containers, "snapshots", rep.Snapshots)
	}
	return sb, nil
}

// ensureImage imports an archive, or finds an image already imported, or
// pulls it from a registry this host can reach.
func (g *globals) ensureImage(ctx context.Context, sb *sandbox.Sandbox, ref, digest string) (sandbox.Image, error) {
	if fi, err := os.Stat(ref); err == nil && !fi.IsDir() {
		return sb.Import(ctx, ref, sandbox.ImportOptions{Digest: digest, Progress: g.progress(ref), Names: true})
	}
	img, err := sb.Resolve(ctx, ref)
	if err == nil {
		if digest != "" && img.Digest != digest {
			return img, fmt.Errorf("%w: %s is %s, expected %s", sandbox.ErrDigestMismatch, ref, img.Digest, digest)
		}
		return img, nil
	}
	if !errors.Is(err, sandbox.ErrImageNotFound) || looksLikeFile(ref) {
		if looksLikeFile(ref) {
			return img, fmt.Errorf("--image %s: no such file", ref)
		}
		return img, err
	}
	return sb.Pull(ctx, ref, sandbox.ImportOptions{Digest: digest})
}

func looksLikeFile(ref string) bool {
	return filepath.Ext(ref) == ".tar" || filepath.IsAbs(ref) || len(ref) > 1 && ref[0] == '.'
}

// progress prints import progress on stderr for archives over 64 MiB.
func (g *globals) progress(path string) func(done, total int64) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() < 64<<20 || g.json {
		return nil
	}
	var w io.Writer = os.Stderr
	return func(done, total int64) {
		fmt.Fprintf(w, "\rimporting %s: %d%% of %s", filepath.Base(path), done*100/max(total, 1), units.FormatBytes(total))
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}
