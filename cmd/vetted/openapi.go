package main

import (
	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/api"
)

// newOpenAPICmd prints the OpenAPI document (YAML) of the HTTP API; `task openapi` writes it
// to openapi/openapi.yaml. Hidden: it is a build step, not a user command.
func newOpenAPICmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    "openapi",
		Short:  "print the OpenAPI document of the HTTP API (YAML)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			doc, err := api.Document()
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(doc)
			return err
		},
	}
}
