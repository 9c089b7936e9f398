package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newToolsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "tools",
		Short: "capture, hash, lint and diff MCP tool manifests",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("tools: not implemented yet")
		},
	}
}
