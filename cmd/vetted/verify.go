package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newVerifyCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "verify IMAGE",
		Short: "verify an OCI image against a policy",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("verify: not implemented yet")
		},
	}
}
