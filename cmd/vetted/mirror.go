package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/mirror"
)

type mirrorFlags struct {
	config, dataDir, database, upstream string
	json, dryRun                        bool
}

func newMirrorCmd(e *env) *cobra.Command {
	var f mirrorFlags
	cmd := &cobra.Command{
		Use:   "mirror",
		Short: "curate server versions from upstream registries through the publish pipeline",
		Long: `Pull server versions from the upstream registries of the configuration's mirror: section
(any registry speaking the official v0.1 API), keep those its curation list names, and send
each through the same publish pipeline as a push, under the upstream's curation policy:
published, pending_review or rejected. Incremental (only what changed upstream since the last
completed pass), bounded, through the outbound guard. An upstream deletion quarantines the
local copy; changed content for a stored version is refused. docs/mirror.md has the details.

It reads the same configuration, data directory and database as ` + "`vetted serve`" + ` and may run beside
it: each upstream's run is claimed once across processes (job mirror:<url>).

Exit codes: 0 the runs completed; 1 something was refused or failed, or a run stopped early;
2 a usage or configuration error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMirror(cmd.Context(), e, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "vetted.yaml with the mirror: section (default $VETTED_CONFIG, else ./vetted.yaml)")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory (default $VETTED_DATA_DIR, data-dir of --config, else ./vetted-data)")
	fl.StringVar(&f.database, "database", "", "PostgreSQL URL (default $VETTED_DATABASE, database of --config; empty: SQLite in the data directory)")
	fl.StringVar(&f.upstream, "upstream", "", "run only this configured upstream (its url)")
	fl.BoolVar(&f.json, "json", false, "print the reports as JSON (an array, one per upstream; docs/mirror.md)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "fetch and evaluate, record nothing")
	return cmd
}

func runMirror(ctx context.Context, e *env, f mirrorFlags) error {
	c, err := mirrorServeConfig(e, f)
	if err != nil {
		return err
	}
	log, _ := newLogger(e.stderr, "text", "warn")
	store, _, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer store.Close()
	runs, err := mirrorRuns(ctx, c, store, log, f.upstream)
	if err != nil {
		return err
	}
	jobs := registry.NewJobs(store, registry.WithJobsLogger(log))
	var reports []*mirror.Report
	var errs []error
	for _, r := range runs {
		rep, err := runOneMirror(ctx, jobs, r, f.dryRun)
		if rep != nil {
			reports = append(reports, rep)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("mirror %s: %w", r.m.Upstream(), err))
		}
	}
	if err := printMirrorReports(e.stdout, reports, f.json); err != nil {
		return err
	}
	for _, r := range reports {
		if r.Refused > 0 || r.Failed > 0 {
			errs = append(errs, fmt.Errorf("mirror %s: %d refused, %d failed", r.Upstream, r.Refused, r.Failed))
		}
	}
	if len(errs) > 0 {
		return checkFailed(errors.Join(errs...))
	}
	return nil
}

// mirrorServeConfig reads the configuration as `vetted serve` would (file, environment,
// flags) for what the mirrors need.
func mirrorServeConfig(e *env, f mirrorFlags) (*serveConfig, error) {
	path, required := f.config, f.config != ""
	if path == "" {
		path = e.getenv("VETTED_CONFIG")
		required = path != ""
	}
	if path == "" {
		path = defaultConfigPath
	}
	file, err := loadConfigFile(path, required)
	if err != nil {
		return nil, usageError(err)
	}
	var ac authConfig
	if err := file.Section("auth", &ac); err != nil {
		return nil, usageError(err)
	}
	c := &serveConfig{ConfigPath: path, File: file, DataDir: f.dataDir, Database: f.database, resource: file.serveResource(e, ac)}
	if c.DataDir == "" {
		c.DataDir = file.setting(e, "data-dir", tokenDefaultDataDir)
	}
	if c.Database == "" {
		c.Database = file.setting(e, "database", "")
	}
	return c, nil
}

// mirrorRuns builds the publish pipeline's shared parts and the configured mirrors (only
// the one named by upstream, when given).
func mirrorRuns(ctx context.Context, c *serveConfig, store registry.Backend, log *slog.Logger, upstream string) ([]mirrorRun, error) {
	pc, oc, err := publishSections(c)
	if err != nil {
		return nil, err
	}
	_, scanner, err := publishScanner(ctx, c, pc, store, log)
	if err != nil {
		return nil, err
	}
	signer, err := vsaSigner(c, pc)
	if err != nil {
		return nil, err
	}
	base := &mirrorBase{pc: pc, oc: oc, scanner: scanner,
		options: append(pipelineOptions(pc), registry.WithVSASigner(registry.NewVSAKeySigner(signer, c.resource, "vetted")))}
	runs, err := buildMirrors(ctx, c, base, store, nil, log)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, usageErrorf("mirror: %s configures no upstream (mirror.upstreams; docs/mirror.md)", c.ConfigPath)
	}
	if upstream == "" {
		return runs, nil
	}
	want, err := mirror.ParseUpstream(upstream)
	if err != nil {
		return nil, usageError(fmt.Errorf("--upstream: %w", err))
	}
	for _, r := range runs {
		if r.m.Upstream() == want {
			return []mirrorRun{r}, nil
		}
	}
	return nil, usageErrorf("--upstream %s is not among the configured upstreams of %s", want, c.ConfigPath)
}

// runOneMirror runs one upstream: claimed through the database like the scheduled job (a
// dry run records nothing and claims nothing).
func runOneMirror(ctx context.Context, jobs *registry.Jobs, r mirrorRun, dryRun bool) (*mirror.Report, error) {
	if dryRun {
		return r.m.Run(ctx, true)
	}
	if err := jobs.Register(r.job()); err != nil {
		return nil, err
	}
	res, err := jobs.RunNow(ctx, r.m.JobName())
	rep, _ := res.(*mirror.Report)
	return rep, err
}

func printMirrorReports(w io.Writer, reports []*mirror.Report, asJSON bool) error {
	if asJSON {
		if reports == nil {
			reports = []*mirror.Report{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	for _, r := range reports {
		printMirrorReport(w, r)
	}
	return nil
}

func printMirrorReport(w io.Writer, r *mirror.Report) {
	state := "complete"
	if !r.Complete {
		state = "stopped early (the next run resumes)"
	}
	if r.DryRun {
		state += ", dry run: nothing recorded"
	}
	fmt.Fprintf(w, "upstream %s: %s, %d page(s)", r.Upstream, state, r.Pages)
	if r.Since != nil {
		fmt.Fprintf(w, ", changes since %s", r.Since.Format(time.RFC3339Nano))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range r.Entries {
		why := e.Reason
		for _, c := range e.Checks {
			why += "; " + c.Name + ": " + c.Reason
		}
		fmt.Fprintf(tw, "  %s\t%s@%s\t%s\n", e.Outcome, e.Name, e.Version, strings.TrimPrefix(why, "; "))
	}
	tw.Flush()
	if r.Error != "" {
		fmt.Fprintf(w, "  stopped: %s\n", r.Error)
	}
	fmt.Fprintf(w, "fetched %d, new %d, published %d, held %d, rejected %d, unchanged %d, refused %d, quarantined %d, skipped %d, failed %d\n",
		r.Fetched, r.New, r.Published, r.Held, r.Rejected, r.Unchanged, r.Refused, r.Quarantined, r.Skipped, r.Failed)
}
