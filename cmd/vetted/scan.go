package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newScanCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "scan SBOM",
		Short: "scan an SBOM against the OSV mirror",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("scan: not implemented yet")
		},
	}
}
