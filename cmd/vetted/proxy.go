package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/internal/mcp/proxy"
)

func newProxyCmd(e *env) *cobra.Command {
	var (
		pf    pinFlags
		sf    serverFlags
		debug bool
	)
	cmd := &cobra.Command{
		Use:   "proxy (--pin tools.json | --registry URL --server NAME@VERSION) (-- CMD… | --url URL)",
		Short: "a transparent MCP proxy that serves only pinned tools",
		Long: `Proxy is a stdio MCP server for the host (configure the host to run "vetted proxy … -- CMD")
that forwards the JSON-RPC stream to the real server (a command over stdio, or --url for
streamable HTTP) unchanged, both ways: initialize with the server's own serverInfo,
capabilities and instructions, prompts, resources, roots, sampling, elicitation, logging,
completion, progress, cancellation and notifications. Only two things are withheld:
tools/list results keep just the tools whose live definition hashes to the pinned digest
(each tool's JSON byte for byte), and tools/call to any other tool is refused with a JSON-RPC
error naming the tool and the reason. After initialization and on every
notifications/tools/list_changed the tools are listed and compared again; calls wait for the
verdict. If the tools cannot be listed, no call passes. Withheld tools, refused calls and
dropped (malformed) frames are logged on stderr.
Exit status: 0 when the host disconnects, 1 the server or registry failed, 2 bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := sf.target(e, args); err != nil {
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
			var up proxy.Upstream
			if sf.url != "" {
				up = proxy.HTTP(sf.url, &http.Client{}, sf.maxMessageBytes)
			} else {
				c := exec.Command(args[0], args[1:]...)
				c.Stderr = e.stderr
				if up, err = proxy.Command(c, sf.maxMessageBytes); err != nil {
					return checkFailed(fmt.Errorf("proxy: %w", err))
				}
			}
			p := proxy.New(pin, up, proxy.Options{Logger: logger, Timeout: sf.timeout, MaxMessageBytes: sf.maxMessageBytes})
			logger.Info("proxy ready", "pinned_manifest", pin.Digest, "server", sf.describe(args))
			var in io.Reader = os.Stdin
			if e.stdin != nil {
				in = e.stdin
			}
			if err := p.Run(cmd.Context(), in, e.stdout); err != nil && cmd.Context().Err() == nil {
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
