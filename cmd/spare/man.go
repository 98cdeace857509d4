package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes the manual pages, spare.1 and one per verb, from the
// command definitions (packaging/build.sh installs them). Hidden: it is
// for building packages. The date is $SOURCE_DATE_EPOCH's when set, so
// that a package built twice from one commit is the same.
func newManCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the manual pages into DIR",
		Args:   cobra.ExactArgs(1),
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			date := time.Now().UTC()
			if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
				sec, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return usageError{fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)}
				}
				date = time.Unix(sec, 0).UTC()
			}
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root.DisableAutoGenTag = true
			h := &doc.GenManHeader{Title: "SPARE", Section: "1", Source: "Spare " + version, Manual: "Spare Manual", Date: &date}
			return doc.GenManTree(root, h, args[0])
		},
	}
}
