package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/localapi"
)

func newHouseholdCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "household",
		Short: "The household's Spare machines on the LAN: each one's state and earnings today",
		Long: "Lists the Spare machines of this household on the LAN (those sharing this machine's payee address, " +
			"and those paired with a code) with their state and earnings today, and their total.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.localClient()
			if err != nil {
				return err
			}
			h, err := c.Household(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(h)
			}
			printHousehold(cmd.OutOrStdout(), h)
			return nil
		},
	}
	var dur time.Duration
	command := func(op string) *cobra.Command {
		c := &cobra.Command{
			Use:   op + " PEER",
			Short: map[string]string{localapi.HouseholdPause: "Pause another machine of the household", localapi.HouseholdResume: "Resume another machine of the household"}[op],
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.localClient()
				if err != nil {
					return err
				}
				req := localapi.HouseholdCommand{Peer: args[0], Op: op}
				if op == localapi.HouseholdPause && dur > 0 {
					req.For = dur.String()
				}
				m, err := c.HouseholdCommand(cmd.Context(), req)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s — %s — %s\n", m.Name, m.State, m.Sentence)
				return nil
			},
		}
		if op == localapi.HouseholdPause {
			c.Flags().DurationVar(&dur, "for", 0, "pause for this long, e.g. 1h (default: until resumed)")
		}
		return c
	}
	cmd.AddCommand(command(localapi.HouseholdPause), command(localapi.HouseholdResume),
		&cobra.Command{
			Use:   "code",
			Short: "Show a code to type on another machine to pair it with this one",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := g.localClient()
				if err != nil {
					return err
				}
				p, err := c.PairCode(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "On the other machine run: spare household pair %s\n(works until %s)\n", p.Code, p.Expires.Local().Format("15:04"))
				return nil
			},
		},
		&cobra.Command{
			Use:   "pair CODE",
			Short: "Pair this machine with the one showing CODE; each may then pause and resume the other",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.localClient()
				if err != nil {
					return err
				}
				m, err := c.Pair(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Paired with %s.\n", m.Name)
				return nil
			},
		})
	return cmd
}

func printHousehold(out io.Writer, h localapi.Household) {
	for _, m := range h.Machines {
		line := fmt.Sprintf("%s — %s, earned today %s", m.Name, m.Sentence, m.EarnedToday)
		if !m.Reachable {
			line = fmt.Sprintf("%s — %s", m.Name, m.Problem)
		}
		if m.Via != localapi.ViaSelf {
			line += "\n    peer " + m.Peer + " (" + m.Via + ")"
		}
		fmt.Fprintln(out, line)
	}
	fmt.Fprintf(out, "household total today: %s\n", h.EarnedToday)
}
