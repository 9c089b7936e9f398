package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// env is what commands may touch of the outside world. Tests replace it.
type env struct {
	stdin  io.Reader // nil means os.Stdin
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// Run runs the vetted command line with args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, &env{stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv})
}

func run(ctx context.Context, args []string, e *env) error {
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetContext(ctx)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err := root.Execute()
	if err != nil && !isCodedError(err) && !started {
		// Cobra rejected the command line (unknown command, wrong argument count,
		// missing required flag) before any command ran.
		return usageError(err)
	}
	return withOutboundFix(err)
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "vetted",
		Short:         "Vetted: a supply-chain-verifying registry for MCP servers",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		newServeCmd(e),
		newDemoCmd(e),
		newVerifyCmd(e),
		newScanCmd(e),
		newOSVCmd(e),
		newToolsCmd(e),
		newCheckCmd(e),
		newProxyCmd(e),
		newTokenCmd(e),
		newPublishCmd(e),
		newMirrorCmd(e),
		newResolveCmd(e),
		newFetchCmd(e),
		newAuditCmd(e),
		newOpenAPICmd(e),
		newBenchCmd(e),
		newTrustCmd(e),
		newVersionCmd(),
	)
	return root
}
