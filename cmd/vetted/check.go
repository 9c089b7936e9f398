package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newCheckCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "check a running MCP server against its pinned tool manifest",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("check: not implemented yet")
		},
	}
}
