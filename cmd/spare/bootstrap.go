package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newBootstrapCmd(g *globals) *cobra.Command {
	var nf netFlags
	cmd := &cobra.Command{
		Use:   "bootstrap --data DIR --listen MULTIADDR",
		Short: "Run a bootstrap and relay node for the Spare network",
		Long: `Run a bootstrap node: a DHT server that new peers join through, and a
circuit relay for providers behind NAT. It prints its /p2p/ addresses, which
nodes and requesters pass to --bootstrap. Runs until SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(nf.listen) == 0 {
				return usageError{errors.New("--listen is required, e.g. /ip4/0.0.0.0/tcp/4001")}
			}
			dir, err := g.resolveDataDir()
			if err != nil {
				return err
			}
			if err := nf.join(dir, nf.network, "--network"); err != nil {
				return err
			}
			h, err := nf.openHost(cmd.Context(), g, dir, true)
			if err != nil {
				return err
			}
			defer h.Close()
			for _, a := range h.ListenAddrs() {
				fmt.Fprintln(cmd.OutOrStdout(), a)
			}
			g.log.Info("bootstrap node running", "peer", h.ID(), "addrs", h.ListenAddrs())
			return h.Serve(cmd.Context())
		},
	}
	nf.register(cmd, true)
	cmd.Flags().StringVar(&nf.network, "network", "", "the named network (DATA/"+networksFile+") whose peers this node serves: its private pool and allow-list; default: the public Spare network, or --pool")
	return cmd
}
