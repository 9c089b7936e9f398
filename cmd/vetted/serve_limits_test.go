package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Liveness and readiness probes are never rate limited (issue 17 item 9): with a per-address
// budget of one request, the API answers 429 while /healthz and /readyz keep answering 200,
// and probing takes nothing from the API's budget.
func TestServeProbesExemptFromRateLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte("auth:\n  rate_limits:\n    per_address: {rate: 0.001, burst: 1}\n"), 0o600)
	addr, _ := startServe(t, nil, "--data-dir", dir, "--config", cfg)
	base := "http://" + addr
	for i := 0; i < 20; i++ {
		for _, p := range []string{"/healthz", "/readyz"} {
			if resp, body := request(t, http.DefaultClient, "GET", base+p, ""); resp.StatusCode != 200 {
				t.Fatalf("probe %d %s: %d %s", i, p, resp.StatusCode, body)
			}
		}
	}
	// A probe with a bogus token is still just a probe.
	if resp, body := request(t, http.DefaultClient, "GET", base+"/healthz", "not-a-token"); resp.StatusCode != 200 {
		t.Fatalf("probe with a bad token: %d %s", resp.StatusCode, body)
	}
	if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/servers", ""); resp.StatusCode != 200 {
		t.Fatalf("first API request (the probes took the budget?): %d %s", resp.StatusCode, body)
	}
	resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/servers", "")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "address") {
		t.Fatalf("second API request: want 429 for the address, got %d %s", resp.StatusCode, body)
	}
	// A path that merely starts like a probe is limited.
	if resp, _ := request(t, http.DefaultClient, "GET", base+"/healthz/x", ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("/healthz/x: want 429, got %d", resp.StatusCode)
	}
}

// /metrics follows anonymous_read: false (issue 17 item 9), or its own auth.metrics setting.
func TestServeMetricsAccess(t *testing.T) {
	for _, tc := range []struct {
		name, yaml  string
		anon, read  int // status for no token, for a reader's token
		wantProblem string
	}{
		{"anonymous read on", "auth:\n  anonymous_read: true\n", 200, 200, ""},
		{"anonymous read off", "auth:\n  anonymous_read: false\n", 401, 200, `"permission":"read"`},
		{"public despite anonymous read off", "auth:\n  anonymous_read: false\n  metrics: public\n", 200, 200, ""},
		{"reviewers only", "auth:\n  metrics: review\n", 401, 403, `"permission":"review"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "vetted.yaml")
			os.WriteFile(cfg, []byte(tc.yaml), 0o600)
			addr, _ := startServe(t, nil, "--data-dir", dir, "--config", cfg)
			base := "http://" + addr
			resp, body := request(t, http.DefaultClient, "GET", base+"/metrics", "")
			if resp.StatusCode != tc.anon || (tc.anon != 200 && !strings.Contains(body, tc.wantProblem)) {
				t.Fatalf("anonymous: %d %s, want %d mentioning %s", resp.StatusCode, body, tc.anon, tc.wantProblem)
			}
			if tc.anon == 200 && !strings.Contains(body, "# TYPE") {
				t.Fatalf("anonymous: not metrics: %.200s", body)
			}
			tok := issueToken(t, "--role", "reader", "--data-dir", dir, "--audience", base, "--issuer", base)
			resp, body = request(t, http.DefaultClient, "GET", base+"/metrics", tok)
			if resp.StatusCode != tc.read {
				t.Fatalf("reader: %d %.300s, want %d", resp.StatusCode, body, tc.read)
			}
		})
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte("auth:\n  metrics: everyone\n"), 0o600)
	_, _, code := runCLI(t, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--config", cfg)
	if code != 2 {
		t.Fatalf("auth.metrics: everyone: exit %d, want 2", code)
	}
}

// auth.max_token_lifetime bounds every token at verification, the embedded issuer's too;
// `vetted token issue`'s default (1h) and maximum (24h) pass the default bound.
func TestServeMaxTokenLifetime(t *testing.T) {
	dir := t.TempDir()
	addr, _ := startServe(t, nil, "--data-dir", dir)
	base := "http://" + addr
	for _, ttl := range []string{"1h", "24h"} {
		tok := issueToken(t, "--role", "reader", "--data-dir", dir, "--audience", base, "--issuer", base, "--ttl", ttl)
		if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/servers", tok); resp.StatusCode != 200 {
			t.Fatalf("token issue --ttl %s under the default bound: %d %s", ttl, resp.StatusCode, body)
		}
	}

	dir = t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte("auth:\n  max_token_lifetime: 90m\n"), 0o600)
	addr, _ = startServe(t, nil, "--data-dir", dir, "--config", cfg)
	base = "http://" + addr
	tok := issueToken(t, "--role", "reader", "--data-dir", dir, "--audience", base, "--issuer", base, "--ttl", "2h")
	resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/servers", tok)
	if resp.StatusCode != 401 || !strings.Contains(body, "token lifetime too long") {
		t.Fatalf("2h token under a 90m bound: %d %s", resp.StatusCode, body)
	}
	tok = issueToken(t, "--role", "reader", "--data-dir", dir, "--audience", base, "--issuer", base)
	if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/servers", tok); resp.StatusCode != 200 {
		t.Fatalf("default token under a 90m bound: %d %s", resp.StatusCode, body)
	}

	for _, bad := range []string{"forever", "0s", "-1h"} {
		os.WriteFile(cfg, []byte("auth:\n  max_token_lifetime: "+bad+"\n"), 0o600)
		_, stderr, code := runCLI(t, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--config", cfg)
		if code != 2 {
			t.Fatalf("max_token_lifetime %s: exit %d, want 2 (%s)", bad, code, stderr)
		}
	}
}
