package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/api/auth"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	return out.String(), errb.String(), ExitCode(err)
}

func TestTokenIssue(t *testing.T) {
	dir := t.TempDir()
	out, stderr, code := runCLI(t, "token", "issue", "--role", "publisher", "--namespace", "com.example/*", "--ttl", "1h", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "created a new embedded issuer key") {
		t.Fatalf("stderr %q", stderr)
	}
	fi, err := os.Stat(filepath.Join(dir, auth.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	// The server's verifier for the same data directory accepts it.
	si, created, err := auth.LoadOrCreateSelfIssuer(dir, "http://127.0.0.1:8080")
	if err != nil || created {
		t.Fatalf("reload: created=%v err=%v", created, err)
	}
	v, err := auth.NewVerifier("http://127.0.0.1:8080", si.VerifierOption())
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := auth.Authorize(p, auth.PermPublish, "com.example/weather"); err != nil {
		t.Fatal(err)
	}
	if err := auth.Authorize(p, auth.PermPublish, "com.example-evil/weather"); err == nil {
		t.Fatal("published outside its namespace")
	}

	out, _, code = runCLI(t, "token", "issue", "--role", "reviewer", "--subject", "alice", "--audience", "https://vetted.example.com", "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("json: exit %d", code)
	}
	var doc struct {
		Token, Issuer, Audience, Subject string
		Roles                            []string
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Token == "" || doc.Audience != "https://vetted.example.com" || doc.Subject != "alice" || doc.Roles[0] != "reviewer" {
		t.Fatalf("json output %q: %v", out, err)
	}
}

func TestTokenIssueConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte("auth:\n  resource: https://vetted.example.com\nother: {x: 1}\n"), 0o600)
	out, stderr, code := runCLI(t, "token", "issue", "--role", "admin", "--data-dir", dir, "--config", cfg, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct{ Issuer, Audience string }
	json.Unmarshal([]byte(out), &doc)
	if doc.Issuer != "https://vetted.example.com" || doc.Audience != "https://vetted.example.com" {
		t.Fatalf("issuer/audience from config: %+v", doc)
	}
	os.WriteFile(cfg, []byte("auth:\n  resourse: https://typo.example.com\n"), 0o600)
	var o, e bytes.Buffer
	err := run(context.Background(), []string{"token", "issue", "--role", "admin", "--data-dir", dir, "--config", cfg}, &env{stdout: &o, stderr: &e, getenv: func(string) string { return "" }})
	if ExitCode(err) != 2 || !strings.Contains(err.Error(), `unknown field "resourse"`) {
		t.Fatalf("a typo in the auth section: exit %d, %v", ExitCode(err), err)
	}
}

func TestTokenIssueUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no role", []string{}, "--role is required"},
		{"unknown role", []string{"--role", "root"}, "unknown role"},
		{"publisher without namespace", []string{"--role", "publisher"}, "--namespace"},
		{"bad namespace", []string{"--role", "publisher", "--namespace", "io.github.*/x"}, "namespace"},
		{"ttl too long", []string{"--role", "reader", "--ttl", "48h"}, "ttl"},
		{"ttl negative", []string{"--role", "reader", "--ttl", "-1h"}, "ttl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), append([]string{"token", "issue", "--data-dir", dir}, tc.args...), &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
			if ExitCode(err) != 2 || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want exit 2 mentioning %q, got %d %v", tc.want, ExitCode(err), err)
			}
			if out.Len() != 0 {
				t.Fatalf("printed a token: %q", out.String())
			}
		})
	}
}

// token issue reads the data directory and address from the same configuration as serve
// (file, then VETTED_* overriding it), and warns only when it creates a new issuer key.
func TestTokenIssueReadsServeConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte("addr: 127.0.0.1:9123\ndata-dir: "+filepath.Join(dir, "data")+"\n"), 0o644)
	issue := func(environ map[string]string) (out struct{ Issuer, Audience string }, stderr string) {
		t.Helper()
		var o, e bytes.Buffer
		err := run(context.Background(), []string{"token", "issue", "--role", "reader", "--json", "--config", cfg},
			&env{stdout: &o, stderr: &e, getenv: func(k string) string { return environ[k] }})
		if err != nil {
			t.Fatalf("token issue: %v\n%s", err, e.String())
		}
		if err := json.Unmarshal(o.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out, e.String()
	}
	got, stderr := issue(nil)
	if got.Issuer != "http://127.0.0.1:9123" || got.Audience != "http://127.0.0.1:9123" {
		t.Fatalf("issuer/audience from addr: %+v", got)
	}
	if !strings.Contains(stderr, "warning: created a new embedded issuer key in "+filepath.Join(dir, "data", auth.KeyFile)) {
		t.Fatalf("no warning naming the new key: %q", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", auth.KeyFile)); err != nil {
		t.Fatalf("the key is not in data-dir of the file: %v", err)
	}
	if _, stderr = issue(nil); stderr != "" {
		t.Fatalf("warned again with the key in place: %q", stderr)
	}
	// The environment wins over the file, as for serve.
	got, stderr = issue(map[string]string{"VETTED_ADDR": "0.0.0.0:7000", "VETTED_DATA_DIR": filepath.Join(dir, "other")})
	if got.Audience != "http://localhost:7000" || !strings.Contains(stderr, filepath.Join(dir, "other")) {
		t.Fatalf("environment ignored: %+v %q", got, stderr)
	}
}
