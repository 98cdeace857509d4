package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/config"
	"github.com/sparegpu/spare/doctor"
	"github.com/sparegpu/spare/wallet/evm"
)

func newDoctorCmd(g *globals) *cobra.Command {
	var cf chainFlags
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run jobs, and say how to fix what is missing",
		Long: `Check containerd, runc, cgroups and the freezer, GPU devices and the data
directory. Each problem comes with the command that fixes it. Exits 1 when
something required is missing. On a chain (--network or --rpc, or the
network chosen in Settings), also check the chain: the node answers, its
chain ID and contracts are the preset's, and the wallet holds gas for
settlements.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := config.DataDir(g.dataDir)
			if err != nil {
				return err
			}
			checks := allChecks(g.containerd, dir)
			if err := cf.resolve(dir); err != nil {
				return err
			}
			if cf.onChain() {
				cc, closeProbe, err := chainChecks(cmd, g, &cf, dir)
				if err != nil {
					return err
				}
				defer closeProbe()
				checks = append(checks, cc...)
			}
			rs := doctor.Run(cmd.Context(), checks)
			healthy := doctor.Healthy(rs)
			out := cmd.OutOrStdout()
			if g.json {
				if err := json.NewEncoder(out).Encode(map[string]any{"healthy": healthy, "checks": rs}); err != nil {
					return err
				}
			} else {
				for _, r := range rs {
					mark := map[doctor.Status]string{doctor.OK: "ok  ", doctor.Warn: "warn", doctor.Fail: "FAIL"}[r.Status]
					fmt.Fprintf(out, "%s  %-22s %s\n", mark, r.Name, r.Detail)
					if r.Plain != "" && r.Status != doctor.OK { // the app's words for it
						fmt.Fprintf(out, "      %-22s %s\n", "", r.Plain)
					}
					if r.Fix != "" && r.Status != doctor.OK {
						fmt.Fprintf(out, "      %-22s fix: %s\n", "", r.Fix)
					}
				}
				if healthy {
					fmt.Fprintln(out, "\nThis machine can run Spare jobs.")
				} else {
					fmt.Fprintln(out, "\nThis machine cannot run Spare jobs yet: fix the FAIL lines above.")
				}
			}
			if !healthy {
				return exitError{exitFailure}
			}
			return nil
		},
	}
	cf.register(cmd.Flags())
	return cmd
}

// chainChecks are the doctor's checks of the --network preset for this
// data directory's wallet.
func chainChecks(cmd *cobra.Command, g *globals, cf *chainFlags, dir string) ([]doctor.Check, func(), error) {
	n, err := cf.choose(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := config.EnsureDir(dir); err != nil {
		return nil, nil, err
	}
	w, err := openWallet(cmd, g, &walletFlags{})
	if err != nil {
		return nil, nil, err
	}
	defer w.Close()
	a, err := w.Address()
	if err != nil {
		return nil, nil, err
	}
	p := &evm.Probe{Net: n, Wallet: a}
	return doctor.ChainChecks(p, n.Name, a.Hex()), p.Close, nil
}

// allChecks are the checks `spare doctor` and the app's onboarding run.
func allChecks(socket, dir string) []doctor.Check {
	o := doctor.Options{Socket: socket, DataDir: dir}
	return append(doctor.Standard(o), doctor.ServiceChecks(o)...)
}
