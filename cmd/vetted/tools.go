package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
	"github.com/vetted-dev/vetted/internal/mcp/capture"
)

func newToolsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tools",
		Short: "capture, hash, lint and diff MCP tool manifests",
		Long: `Tool manifests are the tools of an MCP server as tools/list returns them, {"tools":[…]},
every member kept. Each tool is hashed over its RFC 8785 (JCS) form; the manifest digest is
over the tools' digests sorted by name (docs/tool-manifest-hashing.md).`,
	}
	cmd.AddCommand(newToolsCaptureCmd(e), newToolsDigestCmd(e), newToolsLintCmd(e), newToolsDiffCmd(e))
	return cmd
}

// serverFlags say how to reach an MCP server: --url for streamable HTTP, or a command after
// "--" for stdio.
type serverFlags struct {
	url             string
	timeout         time.Duration
	maxMessageBytes int64
}

func (f *serverFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.url, "url", "", "streamable HTTP endpoint of the MCP server (instead of a command after --)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", capture.DefaultTimeout, "time limit for connecting, initializing and listing tools")
	cmd.Flags().Int64Var(&f.maxMessageBytes, "max-message-bytes", capture.DefaultMaxMessageBytes, "largest JSON-RPC message accepted from the server")
}

func (f *serverFlags) target(e *env, args []string) (capture.Target, error) {
	switch {
	case f.url != "" && len(args) > 0:
		return capture.Target{}, usageErrorf("give either --url or a command after --, not both")
	case f.url != "":
		if !strings.HasPrefix(f.url, "http://") && !strings.HasPrefix(f.url, "https://") {
			return capture.Target{}, usageErrorf("--url %q: want an http(s) URL", f.url)
		}
		return capture.HTTP(f.url, nil), nil
	case len(args) > 0:
		c := exec.Command(args[0], args[1:]...)
		c.Stderr = e.stderr
		return capture.Command(c), nil
	default:
		return capture.Target{}, usageErrorf("no server: give --url URL or the server command after --")
	}
}

func (f *serverFlags) options() capture.Options {
	return capture.Options{Timeout: f.timeout, MaxMessageBytes: f.maxMessageBytes}
}

func newToolsCaptureCmd(e *env) *cobra.Command {
	var (
		sf  serverFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "capture -o tools.json (-- CMD ARGS… | --url URL)",
		Short: "Capture the tools of a running MCP server as a manifest",
		Long: `Capture starts the server (stdio) or connects to it (streamable HTTP), initializes an MCP
session, pages through tools/list and writes {"tools":[…]} with every tool exactly as served.
The manifest digest is printed on stderr. Exit status: 0 captured, 1 the server failed or
timed out, 2 bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := sf.target(e, args)
			if err != nil {
				return err
			}
			m, err := capture.Capture(cmd.Context(), target, sf.options())
			if err != nil {
				return checkFailed(err)
			}
			data := m.Encode()
			if out == "" || out == "-" {
				_, err = e.stdout.Write(data)
			} else {
				err = os.WriteFile(out, data, 0o644)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "captured %d tools, manifest %s\n", len(m.Tools), m.Digest)
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the manifest to this file (default stdout)")
	return cmd
}

func readManifest(e *env, path string) (*toolmanifest.Manifest, error) {
	var (
		data []byte
		err  error
	)
	if path == "-" {
		var in io.Reader = os.Stdin
		if e.stdin != nil {
			in = e.stdin
		}
		data, err = io.ReadAll(io.LimitReader(in, toolmanifest.MaxManifestBytes+1))
	} else {
		var f *os.File
		f, err = os.Open(path)
		if err != nil {
			return nil, usageError(err)
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, toolmanifest.MaxManifestBytes+1))
	}
	if err != nil {
		return nil, usageErrorf("reading %s: %v", path, err)
	}
	m, err := toolmanifest.Parse(data)
	if err != nil {
		return nil, usageErrorf("%s: %w", path, err)
	}
	return m, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newToolsDigestCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "digest FILE",
		Short: "Print the manifest digest and each tool's digest",
		Long: `Digest prints the manifest digest on the first line, then "DIGEST  NAME" for each tool sorted
by name. --json prints {"manifestDigest":"sha256:…","tools":[{"name":…,"digest":"sha256:…"}]}.
A manifest that is not strictly valid (duplicate keys, case-variant duplicates of known
fields, lone surrogates, non-local $ref, …) exits 2 naming the problem.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			m, err := readManifest(e, args[0])
			if err != nil {
				return err
			}
			s := m.Summary()
			if asJSON {
				return writeJSON(e.stdout, s)
			}
			fmt.Fprintf(e.stdout, "manifest %s\n", s.ManifestDigest)
			for _, t := range s.Tools {
				fmt.Fprintf(e.stdout, "%s  %s\n", t.Digest, t.Name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newToolsLintCmd(e *env) *cobra.Command {
	var (
		asJSON         bool
		failOn, others string
		server         string
	)
	cmd := &cobra.Command{
		Use:   "lint FILE",
		Short: "Flag poisoned tool definitions (hidden text, model directives, secrets, exfiltration, shadowing, look-alike names)",
		Long: `Lint checks every string of every tool, member names included, and prints one finding per
line: SEVERITY RULE TOOL POINTER MESSAGE. --json prints
{"findings":[{"tool","rule","severity","pointer","message"}]}.

Rules: ` + ruleList() + `

Severities follow harm (docs/tool-lint.md): a directive to the model combined with a
sensitive target, an exfiltration channel or concealment is critical; a directive alone is
high; honest capability disclosures are low.

--server NAME says which server the manifest is, so that its own well-known tools are not
reported as collisions. --known-tools FILE gives other servers' tool names for collision checks, as
{"server-name":["tool",…],…}; without it a built-in list of well-known servers is used.
Exit status: 1 when a finding at or above --fail-on (info, low, medium, high, critical; "none"
never fails) exists, 0 otherwise, 2 bad usage or invalid manifest.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			threshold := toolmanifest.Critical + 1
			if failOn != "none" {
				s, err := toolmanifest.ParseSeverity(failOn)
				if err != nil {
					return usageErrorf("--fail-on: %v", err)
				}
				threshold = s
			}
			opts := toolmanifest.LintOptions{Server: server}
			if others != "" {
				data, err := os.ReadFile(others)
				if err != nil {
					return usageError(err)
				}
				if err := json.Unmarshal(data, &opts.OtherServers); err != nil {
					return usageErrorf("--known-tools %s: want {\"server\":[\"tool\",…]}: %v", others, err)
				}
			}
			m, err := readManifest(e, args[0])
			if err != nil {
				return err
			}
			findings := toolmanifest.Lint(m, opts)
			if findings == nil {
				findings = []toolmanifest.Finding{}
			}
			if asJSON {
				if err := writeJSON(e.stdout, map[string]any{"findings": findings}); err != nil {
					return err
				}
			} else {
				for _, f := range findings {
					fmt.Fprintf(e.stdout, "%-8s %s %s %s %s\n", f.Severity, f.Rule, f.Tool, f.Pointer, f.Message)
				}
				if len(findings) == 0 {
					fmt.Fprintf(e.stdout, "no findings in %d tools\n", len(m.Tools))
				}
			}
			if worst, ok := toolmanifest.MaxSeverity(findings); ok && worst >= threshold {
				if !asJSON {
					fmt.Fprintf(e.stderr, "lint failed: a finding of severity %s (--fail-on %s)\n", worst, failOn)
				}
				return checkFailedSilently()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&failOn, "fail-on", "high", "exit 1 when a finding at or above this severity exists")
	cmd.Flags().StringVar(&others, "known-tools", "", "JSON file of other servers' tool names")
	cmd.Flags().StringVar(&server, "server", "", "the server's identity (registry name or npm package): collision checks skip its own well-known tools")
	return cmd
}

func ruleList() string {
	var b strings.Builder
	for _, r := range toolmanifest.Rules {
		fmt.Fprintf(&b, "\n  %s %s: %s", r.ID, r.Name, r.Summary)
	}
	return b.String()
}

func newToolsDiffCmd(e *env) *cobra.Command {
	var asJSON, exitCode bool
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show tools added, removed and changed between two manifests",
		Long: `Diff compares two manifests by tool name. A new tool is an "addition", a missing one a
"removal", and any change to an existing tool (description, schemas, annotations, any member)
a "definition change", listed field by field with JSON pointers and a word diff of changed
text. --json prints {"oldManifestDigest","newManifestDigest","identical","added","removed",
"changed"}; each entry is {"name","classification","oldDigest","newDigest","fields":[{"pointer",
"change","old","new","textDiff"}]}. Exit status: 0 (or, with --exit-code, 1 when the
manifests differ), 2 bad usage or invalid manifest.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			oldM, err := readManifest(e, args[0])
			if err != nil {
				return err
			}
			newM, err := readManifest(e, args[1])
			if err != nil {
				return err
			}
			r := toolmanifest.Diff(oldM, newM)
			if asJSON {
				if err := writeJSON(e.stdout, r); err != nil {
					return err
				}
			} else {
				r.WriteText(e.stdout)
			}
			if exitCode && !r.Identical {
				return checkFailedSilently()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit 1 when the manifests differ")
	return cmd
}

func (f *serverFlags) describe(args []string) string {
	if f.url != "" {
		return f.url
	}
	return fmt.Sprint(args)
}
