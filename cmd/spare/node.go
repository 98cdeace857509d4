package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/governor"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/node"
	"github.com/sparegpu/spare/p2p"
	"github.com/sparegpu/spare/provider"
	"github.com/sparegpu/spare/settings"
	"github.com/sparegpu/spare/wallet"
)

func newNodeCmd(g *globals) *cobra.Command {
	var set governor.Settings
	var nf netFlags
	var cf chainFlags
	var price, reserveMem, reserveCPUs, reserveDisk, cacheDisk string
	var interval time.Duration
	var owners []string
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run the provider daemon",
		Long: `Run the provider daemon: the governor that decides when this machine may
work, the sandbox, and the LocalAPI (a unix socket in the data directory)
that the app and the status, pause and resume verbs use. Runs until
SIGINT or SIGTERM, then ends running jobs and exits 0.

The owner's settings (idle minutes, battery, temperature, schedule, price
floor, allowed workloads) are kept in DATA/settings.json and changed
through the LocalAPI (the app's Settings page), which applies them at once.
The flags --idle, --work-on-battery, --max-temp and --price hold over the
saved settings for this run.

Who may do what through the socket: its owner, root and the members of a
"spare" group read the status and the wallet and may pause and resume;
changing the settings, withdrawing, exporting the key and submitting jobs
need an owner: root, the daemon's user, or a user listed in DATA/owners
(the packages record the person who installed Spare; --owner adds one).
Presence reports count only from the user at the screen (logind).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			dir, err := g.resolveDataDir()
			if err != nil {
				return err
			}
			pr, err := wallet.ParseAmount(price)
			if err != nil || pr <= 0 {
				return usageError{fmt.Errorf("--price %q: want a positive amount per second, e.g. 0.0001", price)}
			}
			if interval < time.Second || interval%time.Second != 0 {
				return usageError{fmt.Errorf("--interval %s: whole seconds, at least 1s", interval)}
			}
			var reserve provider.Reserve
			if reserveMem != "" {
				if reserve.Memory, err = market.ParseByteSize(reserveMem); err != nil || reserve.Memory <= 0 {
					return usageError{fmt.Errorf("--reserve-memory %q: want a size like 4G", reserveMem)}
				}
			}
			if reserveDisk != "" {
				if reserve.Disk, err = market.ParseByteSize(reserveDisk); err != nil || reserve.Disk <= 0 {
					return usageError{fmt.Errorf("--reserve-disk %q: want a size like 20G", reserveDisk)}
				}
			}
			var cache market.ByteSize
			if cacheDisk != "" {
				if cache, err = market.ParseByteSize(cacheDisk); err != nil || cache <= 0 {
					return usageError{fmt.Errorf("--cache-disk %q: want a size like 10G", cacheDisk)}
				}
			}
			if reserveCPUs != "" {
				if reserve.CPUs, err = market.ParseMilliCPU(reserveCPUs); err != nil || reserve.CPUs <= 0 {
					return usageError{fmt.Errorf("--reserve-cpus %q: want cores like 2 or 0.5", reserveCPUs)}
				}
			}
			if len(owners) > 0 {
				if err := node.AddOwners(dir, owners); err != nil {
					return usageError{err}
				}
			}
			wslGPUSpec(ctx, g.log)
			sb, err := g.openSandbox(ctx)
			if err != nil {
				return err
			}
			defer sb.Close()
			w, err := wallet.Open(wallet.Options{DataDir: dir, Keystore: walletKeystore, Log: g.log})
			if err != nil {
				return err
			}
			defer w.Close()
			// Without --network or --rpc, the network chosen in Settings:
			// it picks the peers as well as the money, so it is read
			// before the host starts. An unreadable settings file is
			// ignored, as the daemon ignores it, and said so: a flag
			// still chooses.
			if err := cf.resolve(dir); err != nil {
				var ue usageError
				if errors.As(err, &ue) {
					return err
				}
				g.log.Error("money settles in the embedded ledger: the network chosen in Settings could not be read; fix the file, or choose with --network", "err", err)
			}
			if err := nf.join(dir, cf.network, cf.origin()); err != nil {
				return err
			}
			nf.keepPorts = true // the port an owner forwards stays right
			nf.ads = volunteerAds(cmd, dir, nf.ads, g.log)
			h, err := nf.openHost(ctx, g, dir, false)
			if err != nil {
				return err
			}
			defer h.Close()
			// `spare submit` hands its jobs to this requester: the key is
			// unlocked, the host connected and the ads heard already.
			trust, err := market.OpenFileTrust(filepath.Join(dir, "trust.json"))
			if err != nil {
				return err
			}
			req := &market.Requester{Host: h, Wallet: w, Blobs: p2p.FileStore{Dir: blobDir(dir)}, Trust: trust, Log: g.log}
			chain, closeChain, err := cf.open(ctx, g, dir, w)
			if err != nil {
				return err
			}
			defer closeChain()
			if chain != nil {
				req.Channels = newReusedChannels(chain, w.Ledger, g.log)
				fmt.Fprintf(cmd.ErrOrStderr(), "spare node: settling on %s (chain %d, escrow %s)\n", chain.Network.Name, chain.Network.ChainID, chain.Network.Escrow.Hex())
			}
			n, err := buildNode(nodeParts{DataDir: dir, Sandbox: sb, Wallet: w, Host: h, Settings: set, Pinned: pinnedSettings(cmd), Chain: chain, Network: nf.name,
				Policy: market.Policy{Price: market.Price{PerGPUSecond: uint64(pr), PerCPUSecond: uint64(pr)},
					IntervalSeconds: uint32(interval / time.Second)},
				Reserve: reserve, Cache: cache, Submitter: req, Log: g.log})
			if err != nil {
				return err
			}
			// Unlocking the wallet key ran scrypt, whose 256 MB of scratch
			// memory is garbage now; hand it back instead of carrying it
			// until the heap grows that far again.
			debug.FreeOSMemory()
			g.log.Info("spare node starting", "data", dir, "socket", localapi.SocketPath(dir), "peer", h.ID(), "addrs", h.ListenAddrs())
			fmt.Fprintf(cmd.ErrOrStderr(), "spare node: LocalAPI at %s\nspare node: peer %s\n", localapi.SocketPath(dir), h.ID())
			for _, a := range h.ListenAddrs() {
				fmt.Fprintf(cmd.ErrOrStderr(), "spare node: listening on %s\n", a)
			}
			return n.Serve(ctx)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&set.AlwaysAvailable, "always-available", false, "ignore keyboard and mouse (headless servers); games, heat and power rules still apply")
	f.DurationVar(&set.IdleBefore, "idle", 0, "how long without input before work may start (default 5m)")
	f.DurationVar(&set.Grace, "grace", 0, "how long a frozen job waits for the owner to leave before it ends (default 10s)")
	f.BoolVar(&set.WorkOnBattery, "work-on-battery", false, "allow work on battery power")
	f.IntVar(&set.MaxTempC, "max-temp", 0, "GPU temperature in °C at which work freezes (default 83)")
	f.StringVar(&price, "price", "0.0001", "price in currency units per second per GPU and per CPU core")
	f.DurationVar(&interval, "interval", 10*time.Second, "metering interval: a signed receipt this often")
	f.StringVar(&reserveMem, "reserve-memory", "", "memory this machine keeps for itself, never offered (default: the larger of 2G and a quarter)")
	f.StringVar(&reserveCPUs, "reserve-cpus", "", "CPU cores this machine keeps for itself, never offered (default 1)")
	f.StringVar(&reserveDisk, "reserve-disk", "", "free disk space jobs never take (default: the larger of 5G and a tenth of the disk)")
	f.StringVar(&cacheDisk, "cache-disk", "", "disk kept between jobs for their images, inputs and outputs, least recently used first out (default: the larger of 1G and a twentieth of the disk)")
	f.Bool("ious-from-strangers", false, "take jobs paid in IOUs (no chain) from anyone on the public network, for this run: a stranger's IOU is only a promise, and one that never pays leaves the work unpaid (default: only from the pool and the peers named in Settings)")
	f.StringArrayVar(&owners, "owner", nil, "record this user (name or ID) in DATA/owners: may change the settings, withdraw, export and submit jobs through the socket (repeatable)")
	f.Bool("relay", false, "volunteer as a limited relay for Spare nodes behind NATs, for this run, while this machine is reached directly (never on a metered connection; default: the relay setting in Settings)")
	nf.register(cmd, true)
	cf.register(f)
	return cmd
}

// pinnedSettings names the owner settings given on the command line:
// for this run they hold over the saved DATA/settings.json.
func pinnedSettings(cmd *cobra.Command) []string {
	var out []string
	for flag, field := range map[string]string{"idle": settings.FieldIdleMinutes, "work-on-battery": settings.FieldRunOnBattery,
		"max-temp": settings.FieldMaxTempC, "price": settings.FieldPriceFloor, "ious-from-strangers": settings.FieldIOUStrangers, "relay": settings.FieldRelay} {
		if cmd.Flags().Changed(flag) {
			if b, err := cmd.Flags().GetBool(flag); err == nil && !b {
				continue // --ious-from-strangers=false or --relay=false leaves the saved setting
			}
			out = append(out, field)
		}
	}
	slices.Sort(out)
	return out
}

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show what the daemon is doing and why",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.localClient()
			if err != nil {
				return err
			}
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			return printStatus(cmd, g, s)
		},
	}
}

func newPauseCmd(g *globals) *cobra.Command {
	var req localapi.PauseRequest
	var dur time.Duration
	cmd := &cobra.Command{
		Use:   "pause [--for D | --until tomorrow]",
		Short: "Stop taking work (for a while, until tomorrow, or until resumed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dur < 0 {
				return usageError{errors.New("--for must be positive")}
			}
			if dur > 0 {
				req.For = dur.String()
			}
			if req.Until != "" && req.Until != "tomorrow" {
				return usageError{fmt.Errorf("--until %q: the only value is tomorrow", req.Until)}
			}
			c, err := g.localClient()
			if err != nil {
				return err
			}
			s, err := c.Pause(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printStatus(cmd, g, s)
		},
	}
	cmd.Flags().DurationVar(&dur, "for", 0, "pause for this long, e.g. 1h (default: until resumed)")
	cmd.Flags().StringVar(&req.Until, "until", "", `"tomorrow": pause until tomorrow morning`)
	return cmd
}

func newResumeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "resume",
		Short: "Take work again after a pause",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.localClient()
			if err != nil {
				return err
			}
			s, err := c.Resume(cmd.Context())
			if err != nil {
				return err
			}
			return printStatus(cmd, g, s)
		},
	}
}

func (g *globals) localClient() (*localapi.Client, error) {
	dir, err := g.resolveDataDir()
	if err != nil {
		return nil, err
	}
	return localapi.NewClient(dir), nil
}

func printStatus(cmd *cobra.Command, g *globals, s localapi.Status) error {
	out := cmd.OutOrStdout()
	if g.json {
		return json.NewEncoder(out).Encode(s)
	}
	fmt.Fprintf(out, "%s — %s\n", s.State, s.Sentence)
	if s.BelowCost != "" {
		fmt.Fprintln(out, s.BelowCost)
	}
	if s.Job != "" {
		fmt.Fprintf(out, "job:    %s\n", s.Job)
	}
	for _, d := range s.Devices {
		use := "usable"
		if !d.Usable {
			use = "held back: " + string(d.Reason)
		}
		fmt.Fprintf(out, "device: %d %s (%s)\n", d.Index, d.Name, use)
	}
	if s.PeerID != "" {
		fmt.Fprintf(out, "peer:   %s\n", s.PeerID)
	}
	if line := s.NetworkLine(); line != "" {
		fmt.Fprintf(out, "network: %s\n", line)
		if line := s.ReachLine(); line != "" {
			fmt.Fprintf(out, "reach:   %s\n", line)
		}
		if s.ReachHint != "" {
			fmt.Fprintf(out, "         %s\n", s.ReachHint)
		}
		if s.HolePunches+s.HolePunchFails > 0 {
			fmt.Fprintf(out, "         hole punches: %d succeeded, %d failed\n", s.HolePunches, s.HolePunchFails)
		}
	}
	if line := s.RelayLine(); line != "" {
		fmt.Fprintf(out, "relay:  %s\n", line)
	}
	fmt.Fprintf(out, "earned today: %s\n", s.EarnedToday)
	return nil
}
