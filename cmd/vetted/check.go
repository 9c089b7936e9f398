package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
	"github.com/vetted-dev/vetted/internal/mcp/capture"
	"github.com/vetted-dev/vetted/internal/mcp/pin"
)

// pinFlags say where the pinned manifest comes from: --pin FILE, or --registry URL with
// --server NAME@VERSION.
type pinFlags struct {
	pin, registry, server, token string
}

func (f *pinFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.pin, "pin", "", "pinned manifest file (tools.json)")
	cmd.Flags().StringVar(&f.registry, "registry", "", "Vetted registry URL to fetch the pinned manifest from (with --server)")
	cmd.Flags().StringVar(&f.server, "server", "", "server NAME@VERSION whose pinned manifest to use")
	cmd.Flags().StringVar(&f.token, "token", "", "bearer token for the registry (default $VETTED_TOKEN)")
}

func (f *pinFlags) load(cmd *cobra.Command, e *env) (*toolmanifest.Manifest, error) {
	switch {
	case f.pin != "" && f.registry != "":
		return nil, usageErrorf("give either --pin or --registry, not both")
	case f.pin != "":
		m, err := pin.Load(f.pin)
		if err != nil {
			return nil, usageErrorf("--pin: %v", err)
		}
		return m, nil
	case f.registry != "":
		if f.server == "" {
			return nil, usageErrorf("--registry needs --server NAME@VERSION")
		}
		name, version, err := pin.SplitNameVersion(f.server)
		if err != nil {
			return nil, usageError(err)
		}
		if _, err := pin.URL(f.registry, name, version); err != nil {
			return nil, usageErrorf("--registry: %v", err)
		}
		token := f.token
		if token == "" {
			token = e.getenv("VETTED_TOKEN")
		}
		m, err := pin.Fetch(cmd.Context(), &http.Client{Timeout: time.Minute}, f.registry, name, version, token)
		if errors.Is(err, pin.ErrNotFound) {
			return nil, checkFailed(notPublished(cmd.Context(), f.registry, token, name, version))
		}
		if err != nil {
			return nil, checkFailed(err)
		}
		return m, nil
	default:
		return nil, usageErrorf("no pin: give --pin tools.json or --registry URL --server NAME@VERSION")
	}
}

func newCheckCmd(e *env) *cobra.Command {
	var (
		pf     pinFlags
		sf     serverFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "check (--pin tools.json | --registry URL --server NAME@VERSION) (-- CMD… | --url URL)",
		Short: "check a running MCP server against its pinned tool manifest",
		Long: `Check captures the live tool manifest of a server (stdio command after --, or --url for
streamable HTTP) and compares it with the pinned one: a file (--pin) or the manifest the
registry serves for NAME@VERSION at {registry}/v0.1/x/dev.vetted/servers/{name}/versions/
{version}/tools, whose digest (ETag) is verified. Every tool must be identical (same
digest); a missing, added or changed tool is drift and is printed as a diff: which tool, which
fields, and a word diff of changed text. --json prints the diff object of "vetted tools diff
--json". Exit status: 0 identical, 1 drift or the server/registry failed, 2 bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := sf.target(e, args)
			if err != nil {
				return err
			}
			pin, err := pf.load(cmd, e)
			if err != nil {
				return err
			}
			live, err := capture.Capture(cmd.Context(), target, sf.options())
			if err != nil {
				return checkFailed(fmt.Errorf("capturing the live manifest: %w", err))
			}
			r := toolmanifest.Diff(pin, live)
			if asJSON {
				if err := writeJSON(e.stdout, r); err != nil {
					return err
				}
			} else if r.Identical {
				fmt.Fprintf(e.stdout, "OK: %d tools identical to the pin (manifest %s)\n", len(live.Tools), live.Digest)
			} else {
				label := "the server"
				if pf.server != "" {
					label = pf.server
				}
				fmt.Fprintf(e.stdout, "DRIFT: %s no longer matches its pinned tool manifest\n", label)
				r.WriteText(e.stdout)
			}
			if !r.Identical {
				return checkFailedSilently()
			}
			return nil
		},
	}
	pf.register(cmd)
	sf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the diff as JSON")
	return cmd
}
