package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/config"
	"github.com/sparegpu/spare/doctor"
)

func newDoctorCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run jobs, and say how to fix what is missing",
		Long: `Check containerd, runc, cgroups and the freezer, GPU devices and the data
directory. Each problem comes with the command that fixes it. Exits 1 when
something required is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := config.DataDir(g.dataDir)
			if err != nil {
				return err
			}
			rs := doctor.Run(cmd.Context(), allChecks(g.containerd, dir))
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
}

// allChecks are the checks `spare doctor` and the app's onboarding run.
func allChecks(socket, dir string) []doctor.Check {
	o := doctor.Options{Socket: socket, DataDir: dir}
	return append(doctor.Standard(o), doctor.ServiceChecks(o)...)
}
