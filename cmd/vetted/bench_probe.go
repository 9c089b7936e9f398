package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newBenchReadyCmd waits for a starting server to answer /readyz and prints how long it
// took since --since (the Unix time in nanoseconds at which the script started it), so that
// bench/read.sh measures cold start without curl.
func newBenchReadyCmd(e *env) *cobra.Command {
	var (
		target  string
		since   int64
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "ready",
		Short: "wait until a server answers /readyz; print the milliseconds since --since",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			if since > 0 {
				start = time.Unix(0, since)
			}
			client := &http.Client{Timeout: time.Second}
			for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				resp, err := client.Get(target + "/readyz")
				if err != nil {
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					fmt.Fprintf(e.stdout, "%d\n", time.Since(start).Milliseconds())
					return nil
				}
			}
			return fmt.Errorf("%s/readyz: not ready after %v", target, timeout)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&target, "url", "http://127.0.0.1:8080", "base URL of the server")
	fl.Int64Var(&since, "since", 0, "Unix time in nanoseconds the server was started at (default: now)")
	fl.DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait")
	return cmd
}

// cacheLookups reads the list responses' cache hits and misses from the server's /metrics.
func cacheLookups(ctx context.Context, target string) (hit, miss float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("/metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, `vetted_cache_lookups_total{kind="list"`) {
			continue
		}
		f := strings.Fields(line)
		v, perr := strconv.ParseFloat(f[len(f)-1], 64)
		if perr != nil {
			continue
		}
		switch {
		case strings.Contains(line, `result="hit"`):
			hit = v
		case strings.Contains(line, `result="miss"`):
			miss = v
		}
	}
	return hit, miss, sc.Err()
}
