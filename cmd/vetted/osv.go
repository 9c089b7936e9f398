package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/internal/netguard"
	"github.com/vetted-dev/vetted/scan/osv"
)

// osvTransport is the transport "vetted osv sync" downloads with; nil means the default.
// The guarded transport (internal/netguard) is wired in here.
var osvTransport http.RoundTripper

func newOSVCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "osv",
		Short: "manage the offline OSV mirror",
	}
	cmd.AddCommand(newOSVSyncCmd(e), newOSVImportCmd(e), newOSVShowCmd(e))
	return cmd
}

func newOSVSyncCmd(e *env) *cobra.Command {
	var (
		db, from string
		ecos     []string
		asJSON   bool
		maxIncr  int
		keep     int
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "download the OSV database into a new snapshot and swap it in atomically",
		Long: `Download each ecosystem's all.zip from the osv.dev bucket (or --from, a private mirror with
the same layout), incrementally where the bucket's <Ecosystem>/modified_id.csv shows few changes,
verify every archive, and make the new snapshot current atomically (DIR/current →
DIR/snapshots/<id>). A failed or interrupted sync leaves the current snapshot in place.

--json prints the new snapshot's manifest: {id, created, source, ecosystems: [{name, archive,
sha256, size, records, latest, fetch}]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db == "" {
				db = e.getenv("VETTED_OSV_DB")
			}
			if db == "" {
				return usageErrorf("osv sync: --db is required (or set VETTED_OSV_DB)")
			}
			opts := []osv.SyncOption{
				osv.WithSyncLogger(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))),
				osv.WithMaxIncremental(maxIncr),
				osv.WithKeep(keep),
			}
			if from != "" {
				opts = append(opts, osv.WithBaseURL(from))
			}
			if len(ecos) > 0 {
				opts = append(opts, osv.WithEcosystems(ecos...))
			}
			rt := osvTransport
			if rt == nil {
				base := from
				if base == "" {
					base = osv.DefaultBaseURL
				}
				g, err := cliGuard(e, "", nil, []string{base}, netguard.MaxResponseBytes(4<<30), netguard.Timeout(30*time.Minute))
				if err != nil {
					return usageErrorf("osv sync: %v", err)
				}
				rt = g.RoundTripper()
			}
			opts = append(opts, osv.WithTransport(rt))
			for _, o := range opts {
				// Validate options up front so that bad flags are usage errors.
				if err := osv.ValidateSyncOption(o); err != nil {
					return usageErrorf("osv sync: %v", err)
				}
			}
			res, err := osv.Sync(cmd.Context(), db, opts...)
			if err != nil {
				if errors.Is(err, osv.ErrFetch) || errors.Is(err, osv.ErrCorrupt) {
					return checkFailed(fmt.Errorf("osv sync: %w (the current snapshot is unchanged)", err))
				}
				return fmt.Errorf("osv sync: %w", err)
			}
			return printManifest(e, res.Snapshot, asJSON, res.Changed)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&db, "db", "", "mirror directory (default $VETTED_OSV_DB)")
	fl.StringVar(&from, "from", "", "base URL to download from (default "+osv.DefaultBaseURL+")")
	fl.StringArrayVar(&ecos, "ecosystem", nil, "ecosystem to sync (repeatable; default: all in ecosystems.txt)")
	fl.IntVar(&maxIncr, "max-incremental", 2000, "changed records per ecosystem fetched one by one before downloading the whole archive (0: always whole)")
	fl.IntVar(&keep, "keep", 3, "snapshots to keep (≥ 2: the current one and the one before, for the re-scan)")
	fl.BoolVar(&asJSON, "json", false, "print the snapshot manifest as JSON")
	return cmd
}

func newOSVImportCmd(e *env) *cobra.Command {
	var (
		db     string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "import --db DIR (RECORDS-DIR | FILE.zip | FILE.json)…",
		Short: "add downloaded OSV records to the mirror as a new snapshot, sorted by ecosystem",
		Long: `Import is the offline way to fill the mirror: it reads OSV records from folders (searched
recursively for *.json), zip archives (osv.dev's <Ecosystem>/all.zip or all.zip) and single
*.json files, sorts them by the ecosystem their affected packages name, merges them into the
current snapshot and swaps the new snapshot in atomically, as sync does. Every record is
checked first; one invalid record fails the import and the mirror is unchanged. A record
that names no ecosystem covers none and is reported, not imported.

Download osv.dev's archives on a connected machine
(https://osv-vulnerabilities.storage.googleapis.com/<Ecosystem>/all.zip), carry them over and
import them. --json prints {snapshot, previous, changed, records: {ecosystem: n}, unsorted}.`,
		Example: `  vetted osv import --db vetted-data/osv ~/Downloads/npm/all.zip ~/Downloads/PyPI/all.zip
  vetted osv import --db vetted-data/osv ./advisories/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if db == "" {
				db = e.getenv("VETTED_OSV_DB")
			}
			if db == "" {
				return usageErrorf("osv import: --db is required (or set VETTED_OSV_DB; serve reads <data-dir>/osv unless publish.osv_dir says otherwise)")
			}
			res, err := osv.Import(cmd.Context(), db, args)
			if err != nil {
				if errors.Is(err, osv.ErrInvalidRecord) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, osv.ErrBadSource) {
					return usageErrorf("%v (the mirror is unchanged)", err)
				}
				return checkFailed(fmt.Errorf("%w (the mirror is unchanged)", err))
			}
			if asJSON {
				return writeJSON(e.stdout, struct {
					Snapshot string         `json:"snapshot"`
					Previous string         `json:"previous,omitempty"`
					Changed  bool           `json:"changed"`
					Records  map[string]int `json:"records"`
					Unsorted []string       `json:"unsorted"`
				}{res.Snapshot.ID(), res.Previous, res.Changed, res.Records, nonNil(res.Unsorted)})
			}
			n := 0
			for _, c := range res.Records {
				n += c
			}
			fmt.Fprintf(e.stdout, "imported %d record(s) into %d ecosystem(s)\n", n, len(res.Records))
			for _, u := range res.Unsorted {
				fmt.Fprintf(e.stdout, "not imported (names no ecosystem): %s\n", u)
			}
			return printManifest(e, res.Snapshot, false, res.Changed)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "mirror directory (default $VETTED_OSV_DB)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newOSVShowCmd(e *env) *cobra.Command {
	var (
		db     string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show",
		Short: "show the mirror's current snapshot",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if db == "" {
				db = e.getenv("VETTED_OSV_DB")
			}
			if db == "" {
				return usageErrorf("osv show: --db is required (or set VETTED_OSV_DB)")
			}
			snap, err := osv.Open(db)
			if errors.Is(err, osv.ErrNoMirror) {
				return usageErrorf("osv show: %v", err)
			}
			if err != nil {
				return checkFailed(fmt.Errorf("osv show: %w", err))
			}
			return printManifest(e, snap, asJSON, false)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "mirror directory (default $VETTED_OSV_DB)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the snapshot manifest as JSON")
	return cmd
}

func printManifest(e *env, snap *osv.Snapshot, asJSON, changed bool) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(snap.Manifest)
	}
	state := "current"
	if changed {
		state = "new, now current"
	}
	fmt.Fprintf(e.stdout, "snapshot %s (%s)\n", snap.ID(), state)
	counts := snap.Counts()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ECOSYSTEM\tRECORDS\tFETCH\tLATEST")
	byName := map[string]osv.EcosystemEntry{}
	for _, x := range snap.Manifest.Ecosystems {
		byName[x.Name] = x
	}
	for _, name := range snap.Ecosystems() {
		x := byName[name]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", name, counts[name], dash(x.Fetch), dash(x.Latest))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(snap.Ecosystems()) == 0 {
		fmt.Fprintln(e.stdout, "no ecosystem is covered: every package is \"not assessed\"")
	}
	if n := counts[""]; n > 0 {
		fmt.Fprintf(e.stdout, "%d record(s) sit in no ecosystem folder and cover nothing: sort them with `vetted osv import --db %s DIR`\n", n, snap.Dir)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
