package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const benchConfigYAML = "auth:\n  rate_limits:\n    per_address: {rate: 0, burst: 0}\n    per_identity: {rate: 0, burst: 0}\n"

func TestBenchSeedAndLoad(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	if err := run(context.Background(), []string{"bench", "seed", "--data-dir", dir, "--servers", "40", "--versions", "3"}, e); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if !strings.Contains(out.String(), "40 servers × 3 versions (120 new)") {
		t.Fatalf("seed printed %q", out.String())
	}
	// The load comes from one address: lift the per-address rate limit, as bench/read.sh does.
	cfg := filepath.Join(t.TempDir(), "vetted.yaml")
	if err := os.WriteFile(cfg, []byte(benchConfigYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, nil, "--data-dir", dir, "--config", cfg)
	out.Reset()
	err := run(context.Background(), []string{"bench", "load", "--url", "http://" + addr,
		"--servers", "40", "--connections", "2", "--duration", "200ms"}, e)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, out.String())
	}
	for _, s := range benchScenarios {
		if !strings.Contains(out.String(), s+" ") || !strings.Contains(out.String(), "req/s") {
			t.Errorf("no %s line in\n%s", s, out.String())
		}
	}
	// The uncached scenario never hits the response cache: every search is a new term.
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "search-unique ") && !strings.Contains(line, "list cache 0 hits") {
			t.Errorf("search-unique hit the cache: %s", line)
		}
		if strings.HasPrefix(line, "search-unique ") && strings.Contains(line, " 0 misses") {
			t.Errorf("search-unique counted no cache misses (is the cache count read?): %s", line)
		}
	}
	// bench ready reports a ready server at once.
	out.Reset()
	if err := run(context.Background(), []string{"bench", "ready", "--url", "http://" + addr, "--timeout", "5s"}, e); err != nil || strings.TrimSpace(out.String()) == "" {
		t.Fatalf("bench ready: %v %q", err, out.String())
	}
	// A server name that was not seeded is an error (404s), not a silent success.
	err = run(context.Background(), []string{"bench", "load", "--url", "http://" + addr,
		"--servers", "80", "--connections", "2", "--duration", "200ms", "--scenario", "latest"}, e)
	if err == nil || !strings.Contains(err.Error(), "errors") {
		t.Fatalf("load of unknown servers: %v", err)
	}
	err = run(context.Background(), []string{"bench", "load", "--url", "http://192.0.2.1:80", "--duration", "100ms"}, e)
	if ExitCode(err) != exitUsage || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("non-loopback target: %v", err)
	}
}
