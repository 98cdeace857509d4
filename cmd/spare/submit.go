package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// exitNoProvider is `spare submit`'s code when no provider could run the
// job (none found, none fitting, or every attempt lost); the reason is
// printed on stderr.
const exitNoProvider = 3

// exitDisagree is `spare submit`'s code when replicas returned different
// results with no majority: no output is accepted; the verdict is printed.
const exitDisagree = 4

type submitFlags struct {
	resourceFlags
	nf        netFlags
	cf        chainFlags
	image     string
	specFile  string
	maxPrice  string
	maxOutput string
	deposit   string
	replicas  int
	discovery time.Duration
	noDaemon  bool
}

func newSubmitCmd(g *globals) *cobra.Command {
	var f submitFlags
	cmd := &cobra.Command{
		Use:   "submit (--image FILE.tar | --spec FILE) [flags] [-- CMD ARGS...]",
		Short: "Run a job on a provider found on the network, paying per second",
		Long: `Find providers on the Spare network, run the job on the best one that fits,
stream its logs, pay each metered interval with a signed voucher and fetch
its outputs into a new directory OUTPUT/<job-id> (--output itself is never
written into; nothing existing is replaced, no link followed). If the provider is lost or preempted, the job is
rescheduled on another one. With --replicas K the job runs on K providers
drawn at random (weighted by their record with you) from K distinct
network origins (a /24 or /48 each), and their output digests are
compared: when a majority that includes a provider with an established
record agrees, its result is taken and the dissenters named. A job asked
to run once is spot-checked now and then on a second provider (always
while its provider is new to you). The exit code is the job's; 3 when no
provider could run it (the reason is printed); 4 when replicas disagree
and nobody can tell who was right (no majority, or none with an
established record: nothing is accepted).

When a daemon (spare node) runs for --data, the job goes to it over the
LocalAPI and runs with its unlocked wallet, its network connections and
the providers it already knows (--bootstrap and --no-mdns then have no
effect), and pays on the network the daemon settles on; --no-daemon, or
--network or --rpc, runs it in this process instead. In this process money
settles on the chain --network (or --rpc) names; without either, on the
network chosen in Settings, else in the embedded ledger (--network ledger:
the embedded ledger whatever Settings say).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return submit(cmd, g, &f, args)
		},
	}
	f.register(cmd)
	f.nf.register(cmd, false)
	fl := cmd.Flags()
	fl.StringVar(&f.image, "image", "", "image archive (.tar) served to the provider by digest")
	fl.StringVar(&f.specFile, "spec", "", "job spec file (YAML or JSON); --image supplies its blob")
	fl.StringVar(&f.maxPrice, "max-price", "0.01", "the most to pay per second for the whole job, in currency units")
	fl.StringVar(&f.maxOutput, "max-output", "", "the most the job may return, all outputs together, e.g. 100M (default and most 1G)")
	fl.StringVar(&f.deposit, "deposit", "", "deposit per payment channel (default: the job's maximum cost)")
	fl.IntVar(&f.replicas, "replicas", 0, "run on this many providers from distinct network origins and compare outputs (default 1)")
	fl.DurationVar(&f.discovery, "discovery", 0, "how long to look for providers (default 20s)")
	fl.BoolVar(&f.noDaemon, "no-daemon", false, "run the requester in this process even when a daemon runs for --data")
	f.cf.register(fl)
	return cmd
}

func (f *submitFlags) spec(store p2p.FileStore, args []string) (*market.JobSpec, error) {
	var spec *market.JobSpec
	if f.specFile != "" {
		s, err := market.DecodeSpecFile(f.specFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--spec: %w", err)}
		}
		spec = s
	} else {
		if f.image == "" {
			return nil, usageError{errors.New("--image FILE.tar or --spec FILE is required")}
		}
		spec = &market.JobSpec{Command: args}
		if f.gpus < 0 {
			return nil, usageError{fmt.Errorf("--gpus %d: must be 0 or more", f.gpus)}
		}
		spec.Resources.GPUs = uint32(f.gpus)
		if f.cpus != "" {
			c, err := market.ParseMilliCPU(f.cpus)
			if err != nil {
				return nil, usageError{fmt.Errorf("--cpus: %w", err)}
			}
			spec.Resources.CPUs = c
		}
		if f.memory != "" {
			m, err := market.ParseByteSize(f.memory)
			if err != nil {
				return nil, usageError{fmt.Errorf("--memory: %w", err)}
			}
			spec.Resources.Memory = m
		}
		spec.MaxDuration = market.Duration(f.timeout)
		mp, err := wallet.ParseAmount(f.maxPrice)
		if err != nil {
			return nil, usageError{fmt.Errorf("--max-price: %w", err)}
		}
		spec.MaxPrice = uint64(mp)
		spec.Replicas = f.replicas
		if f.maxOutput != "" {
			if spec.MaxOutput, err = market.ParseByteSize(f.maxOutput); err != nil || spec.MaxOutput <= 0 {
				return nil, usageError{fmt.Errorf("--max-output %q: want a size like 100M, at most 1G", f.maxOutput)}
			}
		}
	}
	if f.image != "" {
		if fi, err := os.Stat(f.image); err != nil || fi.IsDir() {
			return nil, usageError{fmt.Errorf("--image %s: want an image archive file (registry references go in a --spec)", f.image)}
		}
		d, n, err := market.PutFile(store, f.image)
		if err != nil {
			return nil, err
		}
		if f.specFile != "" && spec.Image.Digest != d {
			return nil, usageError{fmt.Errorf("--image %s is %s; the spec names %s", f.image, d, spec.Image.Digest)}
		}
		spec.Image = market.Image{Digest: d, Size: n, Blob: true}
	}
	for _, in := range f.inputs {
		fi, err := os.Stat(in)
		if err != nil || fi.IsDir() {
			return nil, usageError{fmt.Errorf("--input %s: want a file", in)}
		}
		d, n, err := market.PutFile(store, in)
		if err != nil {
			return nil, err
		}
		spec.Inputs = append(spec.Inputs, market.Input{Name: filepath.Base(in), Digest: d, Size: n})
	}
	if err := spec.Validate(); err != nil {
		return nil, usageError{err}
	}
	return spec, nil
}

func submit(cmd *cobra.Command, g *globals, f *submitFlags, args []string) error {
	ctx := cmd.Context()
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	store := p2p.FileStore{Dir: blobDir(dir)}
	spec, err := f.spec(store, args)
	if err != nil {
		return err
	}
	var deposit wallet.Amount
	if f.deposit != "" {
		if deposit, err = wallet.ParseAmount(f.deposit); err != nil {
			return usageError{fmt.Errorf("--deposit: %w", err)}
		}
	}
	if f.output != "" {
		if err := os.MkdirAll(f.output, 0o755); err != nil {
			return fmt.Errorf("--output %s: %w", f.output, err)
		}
	}
	stdout := cmd.OutOrStdout()
	if g.json {
		stdout = cmd.ErrOrStderr() // the summary owns stdout
	}
	// On a terminal, a progress line (nil otherwise); the logs clear it.
	prog := newSubmitProgress(cmd.ErrOrStderr(), g.json, spec, f.image, f.inputs)
	logs := newJobLogs(prog.around(stdout), prog.around(cmd.ErrOrStderr()))
	// With --network or --rpc this process deposits from the wallet
	// itself, showing each transaction; otherwise a running daemon
	// settles where it does (its flag, else Settings at its start).
	if !f.noDaemon && !f.cf.given() {
		res, done, err := submitViaDaemon(ctx, g, dir, f, spec, logs, cmd.ErrOrStderr())
		if done {
			return reportSubmit(cmd, g, res, err)
		}
	}
	if prog != nil {
		if g.logLevel == "warn" {
			// The libraries' warnings as readable lines around the
			// progress line; --log-level other than the default keeps
			// the raw records.
			g.log = slog.New(noteHandler{p: prog, min: slog.LevelWarn})
			slog.SetDefault(g.log)
		}
		prog.report(market.Progress{Stage: market.StageDiscovering})
		tctx, stop := context.WithCancel(ctx)
		ticked := make(chan struct{})
		go func() { defer close(ticked); prog.tick(tctx) }()
		defer func() { stop(); <-ticked }()
	}
	trust, err := market.OpenFileTrust(filepath.Join(dir, "trust.json"))
	if err != nil {
		return err
	}
	// Without --network or --rpc, the network chosen in Settings: it
	// picks the peers as well as the money.
	if err := f.cf.resolve(dir); err != nil {
		return err
	}
	if err := f.nf.join(dir, f.cf.network, f.cf.origin()); err != nil {
		return err
	}
	// The host first: it joins the network and collects ads while the
	// wallet key is decrypted (scrypt takes about a second).
	h, err := f.nf.openHost(ctx, g, dir, false)
	if err != nil {
		return err
	}
	defer h.Close()
	w, err := wallet.Open(wallet.Options{DataDir: dir, Keystore: walletKeystore, Log: g.log})
	if err != nil {
		return err
	}
	defer w.Close()
	r := &market.Requester{Host: h, Wallet: w, Blobs: store, Trust: trust, Log: g.log}
	chain, closeChain, err := f.cf.open(ctx, g, dir, w)
	if err != nil {
		return err
	}
	defer closeChain()
	if chain != nil {
		chain.Progress = progressPrinter(prog.around(cmd.ErrOrStderr()), chain.Network)
		r.Channels = newReusedChannels(chain, w.Ledger, g.log)
	}
	jout, jerr, notes := logs.writers()
	opt := market.SubmitOptions{Deposit: deposit, OutputDir: f.output, Discovery: f.discovery,
		Stdout: jout, Stderr: jerr, Notes: notes}
	if prog != nil {
		opt.Progress = prog.report
	}
	res, err := r.Submit(ctx, spec, opt)
	logs.flush()
	prog.done()
	return reportSubmit(cmd, g, res, err)
}

// reportSubmit prints a submit's outcome and turns it into the exit code:
// the job's, or exitNoProvider.
func reportSubmit(cmd *cobra.Command, g *globals, res market.SubmitResult, err error) error {
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "spare:", err)
		if errors.Is(err, market.ErrNoProvider) {
			if g.json {
				_ = json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			return exitError{exitNoProvider}
		}
		if errors.Is(err, market.ErrReplicasDisagree) {
			if g.json {
				_ = json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			return exitError{exitDisagree}
		}
		return err
	}
	if g.json {
		if err := json.NewEncoder(cmd.OutOrStdout()).Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "spare: job %s on %s: exit %d, cost %s %s, %d attempt(s)\n",
			res.Job, res.Provider, res.ExitCode, res.Cost, wallet.Unit, res.Attempts)
		if res.Verdict != "" {
			fmt.Fprintln(cmd.ErrOrStderr(), "spare: replicas:", res.Verdict)
		}
		if res.OutputDir != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "spare: %d output(s) in %s\n", len(res.Outputs), res.OutputDir)
		}
	}
	if res.Error != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "spare: the job ended with", res.Error)
	}
	if res.ExitCode != 0 {
		code := res.ExitCode
		if code < 0 || code > 255 {
			code = exitFailure
		}
		return exitError{code}
	}
	return nil
}

// The requester locks each on-chain deposit for its job's maximum duration.
var _ market.LockingOpener = (*evm.Backend)(nil)
