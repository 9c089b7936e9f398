package main

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/bench/loadgen"
)

// newBenchCmd is the read-path benchmark (hidden; bench/read.sh drives it): `bench seed`
// loads the data set into a store, `bench load` sends load to a running `vetted serve`.
func newBenchCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "bench",
		Short:  "read-path benchmark: seed a store, load a running server",
		Hidden: true,
	}
	cmd.AddCommand(newBenchSeedCmd(e), newBenchLoadCmd(e))
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
			if servers < 1 || servers > 1_000_000 || versions < 1 || versions > 100 {
				return usageErrorf("--servers 1..1000000 and --versions 1..100")
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
			vs := loadgen.Dataset(servers, versions)
			created := 0
			for len(vs) > 0 {
				n := min(len(vs), 5000)
				k, err := store.CreateVersions(cmd.Context(), vs[:n])
				if err != nil {
					return fmt.Errorf("seed: %w", err)
				}
				created += k
				vs = vs[n:]
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

// benchScenarios are the request mixes of `bench load`.
var benchScenarios = []string{"latest", "list", "search", "search-org"}

func newBenchLoadCmd(e *env) *cobra.Command {
	var (
		target      string
		connections int
		duration    time.Duration
		servers     int
		scenarios   []string
	)
	cmd := &cobra.Command{
		Use:   "load",
		Short: "send closed-loop load to a running server on this machine and print req/s and latency",
		Long: `Scenarios:
  latest      GET /v0.1/servers/{random server}/versions/latest
  list        GET /v0.1/servers?limit=100, each connection walking the cursors
  search      GET /v0.1/servers?search={random word of the names} (39 distinct queries)
  search-org  GET /v0.1/servers?search=org{random server number} (one match; as many queries as servers)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range scenarios {
				next, keep, err := benchNext(s, servers, connections)
				if err != nil {
					return usageError(err)
				}
				res, err := loadgen.Run(cmd.Context(), loadgen.Config{
					Target: target, Connections: connections, Duration: duration, Next: next, KeepBody: keep,
				})
				if err != nil {
					return usageError(err)
				}
				fmt.Fprintf(e.stdout, "%-10s %s\n", s, res)
				if res.Requests == 0 || res.Errors*100 > res.Requests {
					return fmt.Errorf("%s: %d errors in %d requests (status counts %v)", s, res.Errors, res.Requests, res.Status)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&target, "url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	fl.IntVar(&connections, "connections", 64, "concurrent connections")
	fl.DurationVar(&duration, "duration", 10*time.Second, "duration of each scenario")
	fl.IntVar(&servers, "servers", 10000, "number of servers seeded (names are drawn from them)")
	fl.StringSliceVar(&scenarios, "scenario", benchScenarios, "scenarios to run: "+strings.Join(benchScenarios, ", "))
	return cmd
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
	}
	return nil, false, fmt.Errorf("unknown scenario %q (want %s)", scenario, strings.Join(benchScenarios, ", "))
}
