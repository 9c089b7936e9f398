package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newTokenCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "token",
		Short: "issue tokens signed by the embedded issuer",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("token: not implemented yet")
		},
	}
}
