package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/bench/loadgen"
	"github.com/vetted-dev/vetted/registry"
)

// newBenchCmd is the read-path benchmark (hidden; bench/read.sh drives it): `bench seed`
// loads the data set into a store, `bench load` sends load to a running `vetted serve`.
func newBenchCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "bench",
		Short:  "read-path benchmark: seed a store, load a running server",
		Hidden: true,
	}
	cmd.AddCommand(newBenchSeedCmd(e), newBenchLoadCmd(e), newBenchReadyCmd(e))
	return cmd
}

func newBenchSeedCmd(e *env) *cobra.Command {
	var (
		c                 serveConfig
		servers, versions int
	)
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "load servers × versions realistic published versions into the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if servers < 1 || servers > 10_000_000 || versions < 1 || versions > 100 {
				return usageErrorf("--servers 1..10000000 and --versions 1..100")
			}
			log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			store, kind, err := openStore(cmd.Context(), &c, log)
			if err != nil {
				if isCodedError(err) {
					return err
				}
				return fmt.Errorf("open %s store: %w", kind, err)
			}
			defer store.Close()
			start := time.Now()
			created, err := benchSeed(cmd.Context(), store, servers, versions)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "seeded %s: %d servers × %d versions (%d new) in %v\n",
				kind, servers, versions, created, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&c.DataDir, "data-dir", "./vetted-data", "data directory (SQLite)")
	fl.StringVar(&c.Database, "database", "", "PostgreSQL URL; empty: SQLite in the data directory")
	fl.IntVar(&servers, "servers", 10000, "number of servers")
	fl.IntVar(&versions, "versions", 5, "versions per server")
	return cmd
}

// benchSeed creates the data set through the store's bulk path, in batches generated one
// at a time (the data set of a million versions is never held in memory), the next batch
// generated while the store writes the current one.
func benchSeed(ctx context.Context, store registry.Backend, servers, versions int) (int, error) {
	per := max(1, 10000/versions)
	batches := make(chan []registry.Version, 2)
	go func() {
		defer close(batches)
		for from := 0; from < servers; from += per {
			select {
			case batches <- loadgen.DatasetRange(from, min(servers, from+per), versions):
			case <-ctx.Done():
				return
			}
		}
	}()
	created := 0
	for vs := range batches {
		k, err := store.CreateVersions(ctx, vs)
		if err != nil {
			return created, fmt.Errorf("seed: %w", err)
		}
		created += k
	}
	return created, ctx.Err()
}

// benchScenarios are the request mixes of `bench load`.
var benchScenarios = []string{"latest", "list", "search", "search-unique"}

func newBenchLoadCmd(e *env) *cobra.Command {
	var f benchLoadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "send closed-loop load to a running server on this machine and print req/s and latency",
		Long: `Scenarios:
  latest         GET /v0.1/servers/{random server}/versions/latest
  list           GET /v0.1/servers?limit=100, each connection walking the cursors
  search         GET /v0.1/servers?search={random word of the names} (39 distinct queries: cached)
  search-unique  GET /v0.1/servers?search={a term never sent before in the run} (each matches one
                 server's name: every request misses the response cache and runs the store's search)
  search-org     GET /v0.1/servers?search=org{random server number} (as many distinct queries as
                 servers: after the first seconds, mostly cache hits)

--unique-run R gives each of up to four runs against one data set its own quarter of the
unique terms, so runs never share one either.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBenchLoad(cmd.Context(), e, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	fl.IntVar(&f.connections, "connections", 64, "concurrent connections")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "duration of each scenario")
	fl.IntVar(&f.servers, "servers", 10000, "number of servers seeded (names are drawn from them)")
	fl.StringSliceVar(&f.scenarios, "scenario", benchScenarios, "scenarios to run: "+strings.Join(append(benchScenarios, "search-org"), ", "))
	fl.IntVar(&f.uniqueRun, "unique-run", 0, "which quarter (0..3) of the unique search terms search-unique draws from")
	return cmd
}

type benchLoadFlags struct {
	target             string
	connections        int
	duration           time.Duration
	servers, uniqueRun int
	scenarios          []string
}

func runBenchLoad(ctx context.Context, e *env, f *benchLoadFlags) error {
	if f.uniqueRun < 0 || f.uniqueRun > 3 {
		return usageErrorf("--unique-run %d: want 0..3", f.uniqueRun)
	}
	for _, s := range f.scenarios {
		next, keep, err := benchNext(s, f.servers, f.connections)
		if err != nil {
			return usageError(err)
		}
		var terms *loadgen.UniqueTerms
		quarter := loadgen.Capacity(max(1, f.servers)) / 4
		if s == "search-unique" {
			terms = loadgen.NewUniqueTerms(f.servers, uint64(f.uniqueRun)*quarter, 42)
			next = func(int, []byte) string { return "/v0.1/servers?search=" + url.QueryEscape(terms.Next()) }
		}
		hit0, miss0, merr := cacheLookups(ctx, f.target)
		res, err := loadgen.Run(ctx, loadgen.Config{
			Target: f.target, Connections: f.connections, Duration: f.duration, Next: next, KeepBody: keep,
		})
		if err != nil {
			return usageError(err)
		}
		cache := ""
		if hit1, miss1, err := cacheLookups(ctx, f.target); err == nil && merr == nil {
			cache = fmt.Sprintf("  list cache %.0f hits %.0f misses", hit1-hit0, miss1-miss0)
		}
		fmt.Fprintf(e.stdout, "%-13s %s%s\n", s, res, cache)
		if res.Requests == 0 || res.Errors*100 > res.Requests {
			return fmt.Errorf("%s: %d errors in %d requests (status counts %v)", s, res.Errors, res.Requests, res.Status)
		}
		if terms != nil && terms.Issued()-uint64(f.uniqueRun)*quarter > quarter {
			return fmt.Errorf("search-unique: %d terms sent, more than a quarter of the %d distinct ones: terms were repeated", terms.Issued(), 4*quarter)
		}
	}
	return nil
}

// benchNext returns the request generator of a scenario.
func benchNext(scenario string, servers, conns int) (next func(int, []byte) string, keepBody bool, err error) {
	if servers < 1 || conns < 1 || conns > 1024 {
		return nil, false, fmt.Errorf("--servers and --connections must be positive (connections ≤ 1024)")
	}
	rngs := make([]*rand.Rand, conns)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(uint64(i), 42))
	}
	switch scenario {
	case "latest":
		paths := make([]string, servers)
		for i := range paths {
			paths[i] = "/v0.1/servers/" + url.PathEscape(loadgen.Name(i)) + "/versions/latest"
		}
		return func(c int, _ []byte) string { return paths[rngs[c].IntN(servers)] }, false, nil
	case "list":
		return func(_ int, prev []byte) string {
			if cur := loadgen.NextCursor(prev); cur != "" {
				return "/v0.1/servers?limit=100&cursor=" + url.QueryEscape(cur)
			}
			return "/v0.1/servers?limit=100"
		}, true, nil
	case "search":
		return func(c int, _ []byte) string {
			return "/v0.1/servers?search=" + loadgen.Words[rngs[c].IntN(len(loadgen.Words))]
		}, false, nil
	case "search-org":
		return func(c int, _ []byte) string {
			return fmt.Sprintf("/v0.1/servers?search=org%05d", rngs[c].IntN(servers))
		}, false, nil
	case "search-unique":
		return nil, false, nil // runBenchLoad builds it (it needs the run's range)
	}
	return nil, false, fmt.Errorf("unknown scenario %q (want %s)", scenario, strings.Join(append(benchScenarios, "search-org"), ", "))
}
