package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newProxyCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "proxy",
		Short: "an MCP proxy that serves only pinned tools",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("proxy: not implemented yet")
		},
	}
}
