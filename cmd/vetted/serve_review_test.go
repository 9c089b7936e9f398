package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vetted serve mounts the review API (reviewer role) and the reviewers' pages, whose login
// form accepts a token from `vetted token issue`.
func TestServeReview(t *testing.T) {
	dir := t.TempDir()
	addr, _ := startServe(t, nil, "--data-dir", dir)
	base := "http://" + addr
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	reviewer := issueToken(t, "--role", "reviewer", "--subject", "alice", "--data-dir", dir, "--audience", base, "--issuer", base)
	publisher := issueToken(t, "--role", "publisher", "--namespace", "io.github.acme/*", "--subject", "ci", "--data-dir", dir, "--audience", base, "--issuer", base)
	queue := base + "/v0.1/x/dev.vetted/review/queue"
	if resp, body := request(t, c, "GET", queue, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous queue: %d %s", resp.StatusCode, body)
	}
	if resp, body := request(t, c, "GET", queue, publisher); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "review") {
		t.Fatalf("publisher queue: %d %s", resp.StatusCode, body)
	}
	if resp, body := request(t, c, "GET", queue, reviewer); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"items":[]`) {
		t.Fatalf("reviewer queue: %d %s", resp.StatusCode, body)
	}
	if resp, body := request(t, c, "GET", base+"/v0.1/x/dev.vetted/review/audit/verify", reviewer); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"ok":true`) {
		t.Fatalf("chain status: %d %s", resp.StatusCode, body)
	}

	// The pages: the dashboard sends an anonymous browser to the login form.
	resp, _ := request(t, c, "GET", base+"/ui/", "")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
		t.Fatalf("anonymous dashboard: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := request(t, c, "GET", base+"/ui/login", "")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<html lang="en">`) || !strings.Contains(csp, "frame-ancestors 'none'") ||
		strings.Contains(csp, "script-src") && !strings.Contains(csp, "'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("login page: %d %v", resp.StatusCode, resp.Header)
	}
	var loginCookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "vetted_ui_login" {
			loginCookie = ck
		}
	}
	i := strings.Index(body, `name="csrf" value="`)
	if loginCookie == nil || i < 0 {
		t.Fatalf("login form without its CSRF token: %s", body)
	}
	csrf := body[i+len(`name="csrf" value="`):]
	csrf = csrf[:strings.IndexByte(csrf, '"')]
	form := url.Values{"csrf": {csrf}, "token": {reviewer}, "next": {"/ui/queue"}}
	req, _ := http.NewRequest("POST", base+"/ui/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(loginCookie)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var tok *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "vetted_ui_token" {
			tok = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/queue" || tok == nil ||
		!tok.HttpOnly || !tok.Secure || tok.SameSite != http.SameSiteStrictMode || tok.Path != "/ui" {
		t.Fatalf("login: %d %s %+v", resp.StatusCode, resp.Header.Get("Location"), tok)
	}
	req, _ = http.NewRequest("GET", base+"/ui/queue", nil)
	req.AddCookie(tok)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("queue page with the cookie: %d", resp.StatusCode)
	}
}

// With a ui.oidc section, serve discovers the provider's endpoints at start (through the
// outbound guard) and the login page offers it; a provider it cannot reach stops serve.
func TestServeUIOIDC(t *testing.T) {
	idp := httptest.NewServer(nil)
	idp.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q}`, idp.URL, idp.URL+"/authorize", idp.URL+"/token")
	})
	defer idp.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	write := func(issuer string) {
		yaml := "outbound:\n  allow_hosts: [\"127.0.0.1\"]\n  allow_networks: [127.0.0.0/8]\nui:\n  oidc:\n    name: Acme SSO\n    issuer: " + issuer + "\n    client_id: vetted\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(idp.URL)
	addr, _ := startServe(t, nil, "--data-dir", dir, "--config", cfg)
	resp, body := request(t, http.DefaultClient, "GET", "http://"+addr+"/ui/login", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Sign in with Acme SSO") {
		t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = request(t, c, "GET", "http://"+addr+"/ui/oidc/start", "")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, idp.URL+"/authorize?") ||
		!strings.Contains(loc, "redirect_uri="+url.QueryEscape("http://"+addr+"/ui/oidc/callback")) {
		t.Fatalf("start: %d %s", resp.StatusCode, loc)
	}

	write(idp.URL + "/nowhere")
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--config", cfg},
		&env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "ui.oidc") {
		t.Fatalf("unreachable provider: %v", err)
	}
}
