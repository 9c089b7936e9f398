package main

import (
	"net/http"
	"net/url"
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
