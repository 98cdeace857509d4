package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

func newChainCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chain",
		Short: "Put Spare's escrow on an Ethereum chain and name it as a network",
	}
	cmd.AddCommand(chainDeployCmd(g))
	return cmd
}

func chainDeployCmd(g *globals) *cobra.Command {
	var o evm.DeployOptions
	var rpc, token, faucet string
	wf := &walletFlags{}
	c := &cobra.Command{
		Use:   "deploy --rpc URL [--name NAME] [--token ADDR]",
		Short: "Deploy the escrow (and on a development chain the test token), then write a network preset",
		Long: `Deploy SpareEscrow from this wallet's key to the chain at --rpc, wait for
--confirmations, and write a network preset for it into DATA/` + evm.NetworksFile + `,
which --network NAME then picks.

On a development chain (geth --dev or anvil: the node offers an unlocked
account) the wallet is given gas from that account, the test token (6
decimals, open minting, worthless) is deployed unless --token names one,
--faucet mints test tokens to this wallet, and the preset is named "local"
unless --name says otherwise. Elsewhere --token (the ERC-20 to pay in) and
--name are required, and the wallet pays the gas.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rpc == "" {
				return usageError{errors.New("--rpc is required: the chain's JSON-RPC URL, e.g. http://127.0.0.1:8545")}
			}
			probe := evm.Local()
			probe.RPC = []string{rpc}
			probe.Escrow, probe.Token = common.Address{1}, common.Address{2} // checked below; only the URL matters here
			if err := probe.Validate(); err != nil {
				return usageError{fmt.Errorf("--rpc: %w", err)}
			}
			if token != "" {
				if !common.IsHexAddress(token) {
					return usageError{fmt.Errorf("--token %q is not an address (0x followed by 40 hex digits)", token)}
				}
				o.Token = common.HexToAddress(token)
			}
			if faucet != "" {
				amt, err := wallet.ParseAmount(faucet)
				if err != nil || amt < 0 {
					return usageError{fmt.Errorf("--faucet %q: want an amount such as 1000", faucet)}
				}
				o.Faucet = amt
			}
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			key, err := w.Key()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cl, err := ethclient.DialContext(ctx, rpc)
			if err != nil {
				return fmt.Errorf("--rpc: %w", err)
			}
			defer cl.Close()
			if _, dev := evm.DevAccount(ctx, cl); !dev && o.Name == "" {
				return usageError{errors.New("--name is required off a development chain: the preset's name, e.g. base-sepolia")}
			}
			o.RPC = rpc
			o.Progress = progressPrinter(cmd.ErrOrStderr(), evm.Network{Explorer: o.Explorer})
			o.Log = g.log
			n, err := evm.Deploy(ctx, cl, key, o)
			if err != nil {
				return err
			}
			dir, err := g.resolveDataDir()
			if err != nil {
				return err
			}
			if err := evm.SaveNetwork(dir, n); err != nil {
				return err
			}
			m := map[string]string{"network": n.Name, "chain_id": fmt.Sprint(n.ChainID), "escrow": n.Escrow.Hex(),
				"token": n.Token.Hex(), "symbol": n.Symbol, "file": filepath.Join(dir, evm.NetworksFile)}
			if g.json {
				return printJSON(cmd.OutOrStdout(), m)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "network %s: chain %d, escrow %s, token %s (%s)\nwritten to %s; use it with --network %s\n",
				n.Name, n.ChainID, n.Escrow.Hex(), n.Token.Hex(), n.Symbol, m["file"], n.Name)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&rpc, "rpc", "", "the chain's JSON-RPC URL (required)")
	f.StringVar(&o.Name, "name", "", `name of the preset to write (default on a development chain: "local")`)
	f.StringVar(&token, "token", "", "ERC-20 to pay in (default on a development chain: deploy the test token)")
	f.StringVar(&faucet, "faucet", "", "test tokens to mint to this wallet (development chain only), e.g. 1000")
	f.Uint64Var(&o.Confirmations, "confirmations", 1, "blocks each transaction waits for, its own included")
	f.StringVar(&o.Explorer, "explorer", "", "transaction link template for the preset, with {tx}")
	f.StringVar(&wf.passphraseFile, "passphrase-file", "", "file holding the wallet passphrase (default: the generated DATA/wallet/passphrase)")
	return c
}
