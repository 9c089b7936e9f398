package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/api"
)

// buildString is the one line `vetted version` and `vetted --version` print.
func buildString() string {
	b := api.Build()
	return fmt.Sprintf("vetted %s (commit %s, built %s)", b.Version, b.GitCommit, b.BuildTime)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the module version, git commit and build time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), buildString())
			return err
		},
	}
}
