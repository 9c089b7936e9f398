package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newOSVCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "osv",
		Short: "manage the offline OSV mirror",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("osv: not implemented yet")
		},
	}
}
