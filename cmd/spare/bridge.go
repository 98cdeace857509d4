package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/localapi"
)

// newBridgeCmd is the Linux side of the LocalAPI bridge: the Windows app
// runs `wsl.exe -d Spare -- spare bridge` and speaks the LocalAPI over
// its standard input and output (see localapi/bridge.go).
func newBridgeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:    "bridge",
		Short:  "Relay the LocalAPI between standard input/output and the daemon (the Windows app's link into WSL)",
		Args:   cobra.NoArgs,
		Hidden: true, // started by the app, not by people
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := g.resolveDataDir()
			if err != nil {
				return err
			}
			return localapi.ServeBridge(cmd.Context(), localapi.SocketPath(dir), os.Stdin, os.Stdout)
		},
	}
}
