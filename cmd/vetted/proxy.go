package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/internal/mcp/proxy"
)

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func newProxyCmd(e *env) *cobra.Command {
	var (
		pf    pinFlags
		sf    serverFlags
		debug bool
	)
	cmd := &cobra.Command{
		Use:   "proxy (--pin tools.json | --registry URL --server NAME@VERSION) (-- CMD… | --url URL)",
		Short: "an MCP proxy that serves only pinned tools",
		Long: `Proxy is a stdio MCP server for the host (configure the host to run "vetted proxy … -- CMD")
that forwards to the real server. It offers only the tools whose live definition hashes to
the pinned digest (serving the pinned definition), refuses calls to any other tool with a
JSON-RPC error naming the tool and the reason, and lists and compares the tools again whenever
the server sends notifications/tools/list_changed. Withheld tools and refused calls are logged
on stderr. If the server's tools cannot be listed, nothing is served.
Exit status: 0 when the host disconnects, 1 the server or registry failed, 2 bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := sf.target(e, args)
			if err != nil {
				return err
			}
			pin, err := pf.load(cmd, e)
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
			p, err := proxy.New(cmd.Context(), pin, target, proxy.Options{Logger: logger, Capture: sf.options()})
			if err != nil {
				return checkFailed(fmt.Errorf("proxy: %w", err))
			}
			defer p.Close()
			logger.Info("proxy ready", "served", fmt.Sprint(p.Served()), "pinned_manifest", pin.Digest)
			var in io.Reader = os.Stdin
			if e.stdin != nil {
				in = e.stdin
			}
			err = p.Run(cmd.Context(), &mcp.IOTransport{Reader: io.NopCloser(in), Writer: nopWriteCloser{e.stdout}})
			if err != nil && cmd.Context().Err() == nil {
				return checkFailed(fmt.Errorf("proxy: %w", err))
			}
			return nil
		},
	}
	pf.register(cmd)
	sf.register(cmd)
	cmd.Flags().BoolVar(&debug, "debug", false, "log at debug level")
	return cmd
}
