package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// docsExample returns the YAML block of docs/auth.md that follows the marker line.
func docsExample(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "auth.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("docs/auth.md has no %s", marker)
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("no yaml block after %s", marker)
	}
	return block
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The docs' own ui.oidc example, as written (only the provider's and the registry's URLs
// replaced, and the loopback network and test CA that reach this test's provider added):
// vetted serve starts while the provider is down and serves reads; once the provider is
// up, a reviewer signs in with the authorization code flow and gets their role from
// groups — which this provider, like Dex, releases only when asked — without extra
// settings: no allow_hosts, no scopes. The pages show the reviewer's email.
func TestServeDocsUIOIDCExample(t *testing.T) {
	p := newTestProvider(t, "vetted", "s3cret")
	p.user = providerUser{sub: "CiQxMTExMTE", email: "rita@acme.example", groups: []string{"security"}}
	addr := freeAddr(t)
	base := "http://" + addr
	yaml := docsExample(t, "<!-- example: ui.oidc -->")
	if strings.Contains(yaml, "allow_hosts") || strings.Contains(yaml, "scopes") {
		t.Fatalf("the docs' example needs extra settings:\n%s", yaml)
	}
	yaml = strings.ReplaceAll(yaml, "https://sso.acme.example", p.issuer)
	yaml = strings.ReplaceAll(yaml, "https://vetted.acme.example", base)
	yaml += "outbound:\n  allow_networks: [127.0.0.0/8]\n  ca_file: " + p.caFile + "\n"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}

	p.down.Store(true)
	startServe(t, map[string]string{"VETTED_UI_CLIENT_SECRET": "s3cret"}, "--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--config", cfg)
	if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/servers", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("read with the provider down: %d %s", resp.StatusCode, body)
	}
	if resp, body := request(t, http.DefaultClient, "GET", base+"/ui/login", ""); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Sign in with Acme SSO") {
		t.Fatalf("login page with the provider down: %d %s", resp.StatusCode, body)
	}
	p.down.Store(false)

	jar := newCookieJar()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Jar: jar,
		Transport: p.srv.Client().Transport} // the browser trusts the provider's certificate
	resp, _ := request(t, c, "GET", base+"/ui/oidc/start?next=/ui/queue", "")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, p.issuer+"/auth?") {
		t.Fatalf("start: %d %s", resp.StatusCode, loc)
	}
	resp, _ = request(t, c, "GET", loc, "") // the provider approves and redirects back
	p.mu.Lock()
	scopes := p.scopes
	p.mu.Unlock()
	if !slices.Equal(scopes, []string{"openid", "profile", "email", "groups"}) {
		t.Fatalf("scopes %v, want openid profile email groups", scopes)
	}
	resp, body := request(t, c, "GET", resp.Header.Get("Location"), "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/ui/queue"`) {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	resp, body = request(t, c, "GET", base+"/ui/queue", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "rita@acme.example") {
		t.Fatalf("queue page for the reviewer: %d %s", resp.StatusCode, body)
	}
}

// cookieJar keeps cookies by name for the test's plain-HTTP registry (the pages' cookies
// are Secure, which net/http/cookiejar would not send over http).
type cookieJar struct{ cookies map[string]*http.Cookie }

func newCookieJar() *cookieJar { return &cookieJar{cookies: map[string]*http.Cookie{}} }

func (j *cookieJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	if u.Hostname() != "127.0.0.1" {
		return
	}
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.cookies, c.Name)
		} else {
			j.cookies[c.Name] = c
		}
	}
}

func (j *cookieJar) Cookies(u *url.URL) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range j.cookies {
		if u.Hostname() == "127.0.0.1" && strings.HasPrefix(u.Path, c.Path) {
			out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return out
}

// Start-up refuses a ui.oidc provider the API does not trust and a client secret variable
// that is unset or empty, with exit code 2 and a message naming the key.
func TestServeUIOIDCStartupRefused(t *testing.T) {
	const issuer = "https://sso.acme.example"
	for _, tc := range []struct {
		name, yaml string
		environ    map[string]string
		want       string
	}{
		{"issuer not in auth.issuers", "ui:\n  oidc: {issuer: " + issuer + ", client_id: vetted}\n", nil, `ui.oidc.issuer "` + issuer + `" is not one of auth.issuers`},
		{"issuer differs by a slash", "auth:\n  issuers: [{issuer: " + issuer + "}]\nui:\n  oidc: {issuer: " + issuer + "/, client_id: vetted}\n", nil, "is not one of auth.issuers"},
		{"secret variable unset", "auth:\n  issuers: [{issuer: " + issuer + "}]\nui:\n  oidc: {issuer: " + issuer + ", client_id: vetted, client_secret_env: UI_SECRET}\n", nil, "UI_SECRET is unset or empty"},
		{"secret variable empty", "auth:\n  issuers: [{issuer: " + issuer + "}]\nui:\n  oidc: {issuer: " + issuer + ", client_id: vetted, client_secret_env: UI_SECRET}\n", map[string]string{"UI_SECRET": ""}, "UI_SECRET is unset or empty"},
		{"http issuer off loopback", "auth:\n  issuers: [{issuer: http://sso.acme.example, allow_http_loopback: true}]\n", nil, "only on a loopback address"},
		{"key cache max age", "auth:\n  key_cache: {max_age: 48h}\n", nil, "auth.key_cache.max_age"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "vetted.yaml")
			if err := os.WriteFile(cfg, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--config", cfg},
				&env{stdout: &out, stderr: &errb, getenv: func(k string) string { return tc.environ[k] }})
			if err == nil || !strings.Contains(err.Error(), tc.want) || ExitCode(err) != 2 {
				t.Fatalf("got %v (exit %d), want exit 2 with %q", err, ExitCode(err), tc.want)
			}
		})
	}
}

// An issuer's keys are flushed by the admin operation and by SIGHUP: the next token fetches
// the key set again. A key the provider rotated to is accepted at once.
func TestServeIssuerKeysFlushAndRotation(t *testing.T) {
	p := newTestProvider(t, "vetted", "")
	addr := freeAddr(t)
	base := "http://" + addr
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	yaml := "auth:\n  resource: " + base + "\n  issuers:\n    - issuer: " + p.issuer + "\n      roles_claim: groups\n      role_mapping: {ops: admin, sec: reviewer}\n" +
		"outbound:\n  allow_networks: [127.0.0.0/8]\n  ca_file: " + p.caFile + "\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	startServe(t, nil, "--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--config", cfg)
	admin := func() string { return p.mint(base, "ops-1", map[string]any{"groups": []string{"ops"}}) }
	reviewer := func() string { return p.mint(base, "sec-1", map[string]any{"groups": []string{"sec"}}) }
	flush := base + "/v0.1/x/dev.vetted/admin/issuer-keys/flush"

	if resp, body := request(t, http.DefaultClient, "POST", flush, reviewer()); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"permission":"admin"`) {
		t.Fatalf("flush by a reviewer: %d %s", resp.StatusCode, body)
	}
	hits := p.jwksHits.Load()
	if hits != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", hits)
	}
	resp, body := request(t, http.DefaultClient, "POST", flush, admin())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"flushed":["`+p.issuer+`"]`) {
		t.Fatalf("flush by an admin: %d %s", resp.StatusCode, body)
	}
	if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/x/dev.vetted/review/queue", reviewer()); resp.StatusCode != http.StatusOK {
		t.Fatalf("reviewer after the flush: %d %s", resp.StatusCode, body)
	}
	if n := p.jwksHits.Load(); n != hits+1 {
		t.Fatalf("JWKS fetched %d times after the flush, want %d", n, hits+1)
	}

	// The provider rotates: a token with the new key works at once.
	p.rotate("k2")
	if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/x/dev.vetted/review/queue", reviewer()); resp.StatusCode != http.StatusOK {
		t.Fatalf("new key right after rotation: %d %s", resp.StatusCode, body)
	}

	// SIGHUP flushes too (it reaches every serve in this process; this one is running).
	hits = p.jwksHits.Load()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.jwksHits.Load() == hits {
		if time.Now().After(deadline) {
			t.Fatal("no key fetch after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
		if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/x/dev.vetted/review/queue", reviewer()); resp.StatusCode != http.StatusOK {
			t.Fatalf("reviewer after SIGHUP: %d %s", resp.StatusCode, body)
		}
	}
}

// allow_http_loopback: a plain-http issuer on 127.0.0.1 works for local testing, with no
// outbound settings at all; without the key it is refused at start.
func TestServeHTTPLoopbackIssuer(t *testing.T) {
	p := newProvider(t, "vetted", "", false)
	addr := freeAddr(t)
	base := "http://" + addr
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	write := func(allow bool) {
		yaml := "auth:\n  resource: " + base + "\n  anonymous_read: false\n  issuers:\n    - issuer: " + p.issuer + "\n      roles_claim: groups\n      role_mapping: {sec: reviewer}\n"
		if allow {
			yaml += "      allow_http_loopback: true\n"
		}
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(false)
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"serve", "--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--config", cfg},
		&env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "must be an https URL") || ExitCode(err) != 2 {
		t.Fatalf("http issuer without allow_http_loopback: %v", err)
	}
	write(true)
	startServe(t, nil, "--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--config", cfg)
	tok := p.mint(base, "sec-1", map[string]any{"groups": []string{"sec"}})
	if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/x/dev.vetted/review/queue", tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("reviewer of the http loopback issuer: %d %s", resp.StatusCode, body)
	}
}

// Every vetted.yaml example of docs/auth.md's identity provider sections is valid: its auth
// and ui sections decode (unknown keys are errors) and the verifier builds from them.
func TestDocsIdentityProviderExamplesLoad(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "auth.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, doc, _ := strings.Cut(string(b), "## Identity providers")
	doc, _, _ = strings.Cut(doc, "## The embedded issuer")
	n := 0
	for _, part := range strings.Split(doc, "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		block = strings.TrimPrefix(block, "# vetted.yaml\n")
		if !strings.HasPrefix(block, "auth:") {
			continue // a CI or provider configuration
		}
		n++
		path := filepath.Join(t.TempDir(), "vetted.yaml")
		if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := loadConfigFile(path, true)
		if err != nil {
			t.Fatalf("example %d: %v\n%s", n, err, block)
		}
		var ac authConfig
		var uc uiConfig
		var oc outboundConfig
		if err := f.Section("auth", &ac); err != nil {
			t.Fatalf("example %d: auth: %v\n%s", n, err, block)
		}
		if err := f.Section("ui", &uc); err != nil {
			t.Fatalf("example %d: ui: %v\n%s", n, err, block)
		}
		if err := f.Section("outbound", &oc); err != nil {
			t.Fatalf("example %d: outbound: %v\n%s", n, err, block)
		}
		oc.CAFile = "" // a path on the operator's machine
		g, err := oc.guard(nil, issuerGuardOptions(ac.Issuers)...)
		if err != nil {
			t.Fatalf("example %d: guard: %v", n, err)
		}
		if _, err := buildAuth(ac, t.TempDir(), "https://vetted.acme.example", g, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatalf("example %d: %v\n%s", n, err, block)
		}
	}
	if n < 6 {
		t.Fatalf("%d vetted.yaml examples found, want at least 6", n)
	}
}
