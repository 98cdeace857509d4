package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/config"
	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/provider"
	"github.com/sparegpu/spare/sandbox"
	"github.com/sparegpu/spare/settings"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/workloads/testimage"
)

// demoDiscovery bounds each job's search for the provider; the loop
// tries again when it is not available.
const demoDiscovery = 3 * time.Second

// demoPrice is what the demo provider asks per second (0.0001 currency units).
const demoPrice = 100

type demoFlags struct {
	cf        chainFlags
	jobs      int
	workloads string
	idle      time.Duration
	headless  bool
}

func newDemoCmd(g *globals) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "A local playground: a provider and a requester on this machine, paying for real work",
		Long: `Run a provider daemon and a requester on loopback, with the embedded ledger
for money. The requester keeps submitting the reference render and OCR
jobs; the provider runs them in the sandbox under the governor.

With a display, the desktop app opens on the provider: a job starts when
you stop touching the mouse (after --idle, shortened for the playground)
and freezes when you move it. Without one (or with --headless) the
provider is always available, --jobs jobs run and a report of jobs run and
money moved is printed.

With --network local (and --rpc URL when the node is not on
127.0.0.1:8545) the money is real transactions on a local development chain
(geth --dev): the playground deploys the escrow and a test token there when
they are missing, the requester deposits into a channel it reuses job after
job, the provider settles when each job ends, and the report lists every
transaction. Without --network or --rpc, the network chosen on the
playground's Settings page applies from its next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.jobs, "jobs", 4, "jobs to run headless (0: until interrupted)")
	fl.StringVar(&f.workloads, "workloads", envOr("SPARE_WORKLOADS", "workloads/out"), "directory with render.tar and ocr.tar (make workloads)")
	fl.DurationVar(&f.idle, "idle", 20*time.Second, "with the app: how long without input before work starts")
	fl.BoolVar(&f.headless, "headless", false, "no desktop app even when a display is available")
	f.cf.register(fl)
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func runDemo(cmd *cobra.Command, g *globals, f demoFlags) error {
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	images := map[string]string{}
	for _, name := range []string{"render", "ocr"} {
		p := filepath.Join(f.workloads, name+".tar")
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("the demo needs %s: run `make workloads` (or pass --workloads DIR)", p)
		}
		images[name] = p
	}
	base, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	provDir, reqDir := filepath.Join(base, "demo", "provider"), filepath.Join(base, "demo", "requester")
	for _, d := range []string{provDir, reqDir} {
		if err := config.EnsureDir(d); err != nil {
			return err
		}
	}
	withApp := !f.headless && (os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "")
	set := governor.Settings{IdleBefore: f.idle, AlwaysAvailable: !withApp}

	sb, err := sandbox.New(ctx, sandbox.Config{Socket: g.containerd, WorkDir: filepath.Join(provDir, "jobs"), Log: g.log})
	if err != nil {
		return err
	}
	defer sb.Close()
	if _, err := sb.CleanupLeftovers(ctx); err != nil {
		g.log.Warn("cleaning up leftovers", "err", err)
	}
	pw, err := wallet.Open(wallet.Options{DataDir: provDir, Keystore: walletKeystore, Log: g.log})
	if err != nil {
		return err
	}
	defer pw.Close()
	rw, err := wallet.Open(wallet.Options{DataDir: reqDir, Keystore: walletKeystore, Log: g.log})
	if err != nil {
		return err
	}
	defer rw.Close()
	// Without --network or --rpc, the network chosen on the playground's
	// own Settings page (its window is the provider's: DATA/demo/provider)
	// applies, from this start on, as Settings says.
	if err := f.cf.resolve(provDir); err != nil {
		return err
	}
	var dc *demoChain
	if f.cf.onChain() {
		if dc, err = openDemoChain(ctx, &f.cf, provDir, reqDir, pw, rw, cmd.ErrOrStderr(), g.log); err != nil {
			return err
		}
		defer dc.Close()
	}
	hosts := [2]*p2p.Host{}
	for i, dir := range []string{provDir, reqDir} {
		if hosts[i], err = p2p.New(ctx, p2p.Config{DataDir: dir, LoopbackOnly: true, NoMDNS: true, UserAgent: "spare/" + version, Logger: g.log}); err != nil {
			return err
		}
		defer hosts[i].Close()
	}
	// The playground's short idle threshold holds over saved settings, and
	// the window says so.
	notice := ""
	if withApp {
		notice = fmt.Sprintf("Playground: work starts after %s without input (shortened from 5 min for this demo); "+
			"the jobs come from a requester built into it.", f.idle)
	}
	n, err := buildNode(nodeParts{DataDir: provDir, Sandbox: sb, Wallet: pw, Host: hosts[0], Settings: set,
		Pinned: []string{settings.FieldIdleMinutes}, Notice: notice, Log: g.log,
		// The playground's requester is the owner's own: its IOUs are taken.
		IOUs:   provider.IOUs{Friends: []peer.ID{hosts[1].ID()}},
		Policy: market.Policy{Price: market.Price{PerGPUSecond: demoPrice, PerCPUSecond: demoPrice}, IntervalSeconds: 2},
		Chain:  dc.backend()})
	if err != nil {
		return err
	}
	nodeDone := make(chan error, 1)
	go func() {
		err := n.Serve(ctx)
		if err != nil {
			g.log.Error("the playground's provider stopped", "err", err)
			cancel()
		}
		nodeDone <- err
	}()
	defer func() { cancel(); <-nodeDone }() // the daemon drains before the wallets close
	if err := hosts[1].Connect(ctx, hosts[0].AddrInfo()); err != nil {
		return fmt.Errorf("connecting the demo requester: %w", err)
	}

	// The wallets outlive a run (the playground's data dir is kept): the
	// report counts what this run moved.
	pb0, err := pw.Balance(ctx)
	if err != nil {
		return err
	}
	rb0, err := rw.Balance(ctx)
	if err != nil {
		return err
	}

	out := cmd.ErrOrStderr()
	if withApp {
		fmt.Fprintf(out, "spare demo: %s Move the mouse to freeze a job.\n", notice)
	}
	req := &market.Requester{Host: hosts[1], Wallet: rw, Blobs: p2p.FileStore{Dir: blobDir(reqDir)}, Log: g.log}
	var provTokens0 wallet.Amount
	if dc != nil {
		req.Channels = newReusedChannels(dc.req, rw.Ledger, g.log)
		if provTokens0, err = dc.prov.TokenBalance(ctx, dc.provAddr); err != nil {
			return err
		}
	}
	jobsDone := make(chan demoReport, 1)
	var deposit wallet.Amount // zero: each job's maximum cost (IOUs)
	if dc != nil {
		deposit = demoDeposit
	}
	go func() { jobsDone <- submitDemoJobs(ctx, req, images, reqDir, f.jobs, deposit, out) }()

	if withApp {
		g.dataDir = provDir
		err := runApp(cmd, g)
		cancel()
		<-jobsDone
		return err
	}
	rep := <-jobsDone
	if rep.err != nil && ctx.Err() == nil {
		return rep.err
	}
	if dc != nil {
		dc.settled(ctx, pw)
	}
	pb, err := pw.Balance(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	rb, err := rw.Balance(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	spent, earned := rb.Spent-rb0.Spent, pb.Earned-pb0.Earned
	fmt.Fprintf(cmd.OutOrStdout(), "\n%d job(s) run, %d failed, costing %s %s.\nrequester spent %s %s; provider earned %s %s",
		rep.ok, rep.failed, wallet.Amount(rep.units), wallet.Unit, spent, wallet.Unit, earned, wallet.Unit)
	if spent == earned && uint64(spent) == rep.units {
		fmt.Fprintln(cmd.OutOrStdout(), " — every unit accounted for.")
	} else {
		fmt.Fprintln(cmd.OutOrStdout(), " — they differ: the last voucher is still on its way.")
	}
	if rb0.Spent > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "Since the playground's first run: %s %s.\n", rb.Spent, wallet.Unit)
	}
	if dc != nil {
		dc.report(context.WithoutCancel(ctx), cmd.OutOrStdout(), provTokens0)
	}
	return nil
}

type demoReport struct {
	ok, failed int
	units      uint64 // what the jobs cost, tries that failed included
	err        error
}

// submitDemoJobs alternates render and OCR jobs until n have run (0: until
// ctx ends). While the provider is not available (the owner is at the
// machine) Submit finds no provider and the loop tries again.
func submitDemoJobs(ctx context.Context, req *market.Requester, images map[string]string, dir string, n int, deposit wallet.Amount, out io.Writer) demoReport {
	var rep demoReport
	lines := []string{"Spare reads this line", "Idle GPUs earn money", "The quick brown fox"}
	// i numbers the jobs submitted; a round that found no provider
	// submits the same job again.
	for i := 0; n == 0 || rep.ok+rep.failed < n; {
		if ctx.Err() != nil {
			return rep
		}
		kind := []string{"render", "ocr"}[i%2]
		spec, err := demoSpec(req.Blobs, images[kind], kind, dir, lines[i%len(lines)], i)
		if err != nil {
			rep.err = err
			return rep
		}
		outDir := filepath.Join(dir, "out", fmt.Sprintf("%03d-%s", i, kind))
		if err := os.MkdirAll(outDir, 0o755); err != nil { // Submit makes only the job's directory in it
			rep.err = err
			return rep
		}
		res, err := req.Submit(ctx, spec, market.SubmitOptions{OutputDir: outDir, Discovery: demoDiscovery, Deposit: deposit})
		if errors.Is(err, market.ErrNoProvider) {
			fmt.Fprintln(out, "spare demo: no provider is taking work yet (the machine is in use); trying again")
			continue
		}
		job := i
		i++
		rep.units += res.Units
		if err != nil {
			rep.failed++
			fmt.Fprintf(out, "spare demo: %s job %d failed: %v\n", kind, job, err)
			continue
		}
		rep.ok++
		what := ""
		if kind == "ocr" {
			if b, err := os.ReadFile(filepath.Join(outDir, fmt.Sprintf("line-%03d.txt", job))); err == nil {
				what = fmt.Sprintf(", read %q", string(b[:max(len(b)-1, 0)]))
			}
		} else if len(res.Outputs) > 0 {
			what = ", frame " + filepath.Join(outDir, res.Outputs[0].Path)
		}
		fmt.Fprintf(out, "spare demo: %s job %d: exit %d, cost %s %s%s\n", kind, job, res.ExitCode, res.Cost, wallet.Unit, what)
	}
	return rep
}

func demoSpec(store p2p.FileStore, image, kind, dir, line string, i int) (*market.JobSpec, error) {
	d, size, err := market.PutFile(store, image)
	if err != nil {
		return nil, err
	}
	spec := &market.JobSpec{Image: market.Image{Digest: d, Size: size, Blob: true},
		Resources: market.Resources{CPUs: 1000, Memory: 512 << 20}, MaxDuration: market.Duration(2 * time.Minute), MaxPrice: 1000,
		Kind: market.KindRender}
	if kind == "ocr" {
		spec.Kind = market.KindInference
		png, err := testimage.TextPNG(line)
		if err != nil {
			return nil, err
		}
		in := filepath.Join(dir, "inputs", fmt.Sprintf("line-%03d.png", i))
		if err := os.MkdirAll(filepath.Dir(in), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(in, png, 0o644); err != nil {
			return nil, err
		}
		id, isize, err := market.PutFile(store, in)
		if err != nil {
			return nil, err
		}
		spec.Inputs = []market.Input{{Name: filepath.Base(in), Digest: id, Size: isize}}
	}
	return spec, spec.Validate()
}
