package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
	"github.com/modelcontextprotocol/registry/pkg/model"

	"github.com/vetted-dev/vetted/registry/mirror"
)

// listUpstream serves one fixed v0.1 list page (what changed after updated_since: nothing
// when it is given, since every entry is older).
func listUpstream(t *testing.T, servers ...apiv0.ServerJSON) *httptest.Server {
	t.Helper()
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := apiv0.ServerListResponse{Servers: []apiv0.ServerResponse{}}
		if r.URL.Query().Get("updated_since") == "" {
			for _, s := range servers {
				out.Servers = append(out.Servers, apiv0.ServerResponse{Server: s, Meta: apiv0.ResponseMeta{Official: &apiv0.RegistryExtensions{
					Status: model.StatusActive, PublishedAt: at, UpdatedAt: at, StatusChangedAt: at, IsLatest: true}}})
			}
		}
		out.Metadata.Count = len(out.Servers)
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func mirrorCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, stderr bytes.Buffer
	e := &env{stdout: &out, stderr: &stderr, getenv: func(string) string { return "" }}
	err := run(context.Background(), append([]string{"mirror"}, args...), e)
	return out.String(), err
}

// TestMirrorCommand: `vetted mirror` sends what the curation list names through the publish
// pipeline (here: an image that does not exist, so the pipeline rejects it), prints the
// report as JSON, and a second run asks only for what changed (nothing).
func TestMirrorCommand(t *testing.T) {
	dir := t.TempDir()
	up := listUpstream(t,
		apiv0.ServerJSON{Schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json", Name: "io.github.acme/weather",
			Description: "Weather", Version: "1.0.0", Packages: []model.Package{{RegistryType: "oci", Identifier: "127.0.0.1:1/acme/weather:1.0.0", Transport: model.Transport{Type: "stdio"}}}},
		apiv0.ServerJSON{Schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json", Name: "io.github.other/x",
			Description: "Other", Version: "1.0.0"})
	os.WriteFile(filepath.Join(dir, "acme.yaml"), []byte("authorities:\n  - name: ci\n    keyless:\n      issuer: https://token.actions.githubusercontent.com\n      subjectRegExp: 'https://github\\.com/acme/.+'\n"), 0o600)
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte(`data-dir: `+filepath.Join(dir, "data")+`
outbound: {allow_networks: [127.0.0.0/8]}
mirror:
  upstreams:
    - url: `+up.URL+`
      include: [io.github.acme/*]
      policies: [{namespace: io.github.acme/*, policy: acme.yaml}]
`), 0o600)
	out, err := mirrorCmd(t, "--config", cfg, "--json")
	if err != nil {
		t.Fatalf("mirror: %v\n%s", err, out)
	}
	var reps []mirror.Report
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 1 {
		t.Fatalf("report %q: %v", out, err)
	}
	r := reps[0]
	if r.Upstream != up.URL || !r.Complete || r.Fetched != 2 || r.New != 1 || r.Rejected != 1 || r.Skipped != 1 || r.Published != 0 {
		t.Fatalf("report %+v", r)
	}
	if e := r.Entries[0]; e.Name != "io.github.acme/weather" || e.Outcome != mirror.OutcomeRejected || len(e.Checks) == 0 {
		t.Fatalf("entry %+v", e)
	}
	out, err = mirrorCmd(t, "--config", cfg)
	if err != nil || !strings.Contains(out, "fetched 0, new 0, published 0, held 0, rejected 0") || !strings.Contains(out, "changes since 2026-05-01T00:00:00Z") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
}

func TestMirrorCommandUsage(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "vetted.yaml")
		os.WriteFile(p, []byte("data-dir: "+filepath.Join(dir, "data")+"\n"+body), 0o600)
		return p
	}
	for _, c := range []struct{ cfg, why string }{
		{"", "configures no upstream"},
		{"mirror: {upstreams: [{url: 'ftp://x', include: ['*'], policies: [{namespace: '*', policy: p.yaml}]}]}", "mirror.upstreams[0].url"},
		{"mirror: {upstreams: [{url: 'https://x', policies: [{namespace: '*', policy: p.yaml}]}]}", "include names no pattern"},
		{"mirror: {upstreams: [{url: 'https://x', include: ['*']}]}", "mirror.upstreams[0].policies"},
		{"mirror: {upstreams: [{url: 'https://x', include: ['*'], interval: soon, policies: [{namespace: '*', policy: p.yaml}]}]}", "interval"},
		{"mirror: {upstreams: [{url: 'https://x', include: ['*'], limits: {page_size: 500}, policies: [{namespace: '*', policy: p.yaml}]}]}", "page_size"},
		{"mirror: {upstreams: [{url: 'https://x', include: ['*'], policies: [{namespace: '*', policy: missing.yaml}]}]}", "missing.yaml"},
		{"mirror: {upstream: []}", "unknown field"},
	} {
		_, err := mirrorCmd(t, "--config", write(c.cfg))
		if ExitCode(err) != exitUsage || !strings.Contains(err.Error(), c.why) {
			t.Errorf("config %q: %v (exit %d), want exit 2 naming %q", c.cfg, err, ExitCode(err), c.why)
		}
	}
	os.WriteFile(filepath.Join(dir, "p.yaml"), []byte("authorities:\n  - name: k\n    keyless: {issuer: https://i, subject: s}\n"), 0o600)
	_, err := mirrorCmd(t, "--config", write("mirror: {upstreams: [{url: 'https://x', include: ['*'], policies: [{namespace: '*', policy: p.yaml}]}]}"), "--upstream", "https://y")
	if ExitCode(err) != exitUsage || !strings.Contains(err.Error(), "not among the configured upstreams") {
		t.Errorf("--upstream unknown: %v", err)
	}
}

// TestServeMirrorJob: with an interval, `vetted serve` runs the upstream as a scheduled job
// (claimed through the database) and exports the counters, every outcome from the start.
func TestServeMirrorJob(t *testing.T) {
	dir := t.TempDir()
	up := listUpstream(t, apiv0.ServerJSON{Schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
		Name: "io.github.other/x", Description: "Other", Version: "1.0.0"})
	os.WriteFile(filepath.Join(dir, "acme.yaml"), []byte("authorities:\n  - name: ci\n    keyless: {issuer: https://token.actions.githubusercontent.com, subject: s}\n"), 0o600)
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte(`outbound: {allow_networks: [127.0.0.0/8]}
mirror:
  upstreams:
    - url: `+up.URL+`
      interval: 1h
      include: [io.github.acme/*]
      policies: [{namespace: io.github.acme/*, policy: acme.yaml}]
`), 0o600)
	addr, _ := startServe(t, nil, "--config", cfg, "--data-dir", filepath.Join(dir, "data"))
	want := `vetted_mirror_entries_total{outcome="skipped",upstream="` + up.URL + `"} 1`
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, body = httpGet(t, "http://"+addr+"/metrics"); strings.Contains(body, want) {
			break
		}
	}
	for _, w := range []string{want, `vetted_mirror_entries_total{outcome="published",upstream="` + up.URL + `"} 0`,
		`vetted_mirror_runs_total{result="complete",upstream="` + up.URL + `"} 1`} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %s:\n%s", w, grepLines(body, "vetted_mirror"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
