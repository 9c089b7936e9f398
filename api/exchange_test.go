package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/api/auth"
)

const testGitHubIssuer = "https://token.actions.githubusercontent.com"

// exchangeFixture is a token exchange whose verifier knows three raw tokens and whose
// minter records what it signed.
type exchangeFixture struct {
	minted []string // subject|namespaces, in order
}

func (f *exchangeFixture) config(none []string) TokenExchangeConfig {
	acme, _ := auth.ParsePattern("io.github.acme/*")
	return TokenExchangeConfig{
		GitHubIssuer:   testGitHubIssuer,
		NoneNamespaces: none,
		TTL:            5 * time.Minute,
		Verify: func(_ context.Context, raw string) (*auth.Principal, error) {
			switch raw {
			case "gh-acme":
				return &auth.Principal{Issuer: testGitHubIssuer, Subject: "repo:acme/weather:ref:refs/heads/main",
					Roles: []auth.Role{auth.RolePublisher}, Namespaces: []auth.Pattern{acme}}, nil
			case "gh-nobody":
				return &auth.Principal{Issuer: testGitHubIssuer, Subject: "repo:stranger/x:ref:refs/heads/main",
					Roles: []auth.Role{auth.RoleReader}}, nil
			case "other-issuer":
				return &auth.Principal{Issuer: "https://gitlab.example", Subject: "project_path:acme/weather",
					Roles: []auth.Role{auth.RolePublisher}, Namespaces: []auth.Pattern{acme}}, nil
			}
			return nil, &auth.AuthnError{Reason: "bad signature"}
		},
		Mint: func(subject string, namespaces []string, ttl time.Duration) (string, time.Time, error) {
			f.minted = append(f.minted, subject+"|"+strings.Join(namespaces, ","))
			if ttl != 5*time.Minute {
				return "", time.Time{}, context.DeadlineExceeded
			}
			return "minted-" + subject, time.Unix(1_900_000_000, 0), nil
		},
	}
}

func exchange(t *testing.T, h http.Handler, path, body string) resp {
	t.Helper()
	return post(t, h, path, body)
}

func TestTokenExchangeGitHubOIDC(t *testing.T) {
	f := &exchangeFixture{}
	srv, _ := newPublishServer(t, WithTokenExchange(f.config(nil)))
	h := srv.Handler()

	for _, prefix := range []string{"/v0", "/v0.1"} {
		r := exchange(t, h, prefix+"/auth/github-oidc", `{"oidc_token":"gh-acme"}`)
		if r.code != http.StatusOK {
			t.Fatalf("%s github-oidc: %d %s", prefix, r.code, r.body)
		}
		var tr TokenResponse
		if err := json.Unmarshal([]byte(r.body), &tr); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tr.RegistryToken, "minted-") || !strings.Contains(tr.RegistryToken, "repo:acme/weather") || tr.ExpiresAt != 1_900_000_000 {
			t.Fatalf("%s answer: %s", prefix, r.body)
		}
	}
	if len(f.minted) != 2 || !strings.HasSuffix(f.minted[0], "|io.github.acme/*") || !strings.Contains(f.minted[0], "repo:acme/weather") {
		t.Fatalf("minted: %q (want the verified subject with exactly its auth.publishers namespaces)", f.minted)
	}

	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`{"oidc_token":"forged"}`, http.StatusUnauthorized, "token exchange failed: bad signature"},
		{`{"oidc_token":"other-issuer"}`, http.StatusUnauthorized, "is not the GitHub Actions issuer"},
		{`{"oidc_token":"gh-nobody"}`, http.StatusForbidden, "no auth.publishers rule grants this workflow a namespace"},
		{`{"oidc_token":"  "}`, http.StatusBadRequest, "oidc_token is required"},
	} {
		r := exchange(t, h, "/v0/auth/github-oidc", c.body)
		if r.code != c.code || !strings.Contains(problemText(t, r.body), c.want) {
			t.Errorf("%s: %d %s (want %d naming %q)", c.body, r.code, r.body, c.code, c.want)
		}
	}
	if len(f.minted) != 2 {
		t.Fatalf("a refused exchange minted a token: %q", f.minted)
	}
}

func TestTokenExchangeNoneAndRefusedLogins(t *testing.T) {
	f := &exchangeFixture{}
	h := func(none []string) http.Handler {
		srv, _ := newPublishServer(t, WithTokenExchange(f.config(none)))
		return srv.Handler()
	}
	closed := h(nil)
	if r := exchange(t, closed, "/v0/auth/none", ""); r.code != http.StatusForbidden ||
		!strings.Contains(problemText(t, r.body), "login none is disabled") || !strings.Contains(r.body, "login github-oidc") {
		t.Fatalf("none while disabled: %d %s", r.code, r.body)
	}
	open := h([]string{"io.github.example/*"})
	r := exchange(t, open, "/v0.1/auth/none", "") // mcp-publisher login none sends no body
	if r.code != http.StatusOK || !strings.Contains(r.body, `"registry_token":"minted-anonymous (login none)"`) {
		t.Fatalf("none while enabled: %d %s", r.code, r.body)
	}
	if want := "anonymous (login none)|io.github.example/*"; !slices.Contains(f.minted, want) {
		t.Fatalf("minted %q, want %q", f.minted, want)
	}
	for _, m := range []string{"github-at", "dns", "http", "oidc"} {
		r := exchange(t, open, "/v0/auth/"+m, `{"github_token":"x","domain":"example.com","timestamp":"t","signed_timestamp":"s"}`)
		if r.code != http.StatusForbidden || !strings.Contains(problemText(t, r.body), "login "+m+" is not accepted") ||
			!strings.Contains(r.body, "mcp-publisher login github-oidc") {
			t.Errorf("login %s: %d %s", m, r.code, r.body)
		}
	}
	// No exchange configured: github-oidc says it is not configured, and how to configure it.
	srv, _ := newPublishServer(t)
	if r := exchange(t, srv.Handler(), "/v0/auth/github-oidc", `{"oidc_token":"gh-acme"}`); r.code != http.StatusForbidden ||
		!strings.Contains(problemText(t, r.body), "auth.token_exchange.github_oidc") {
		t.Fatalf("unconfigured: %d %s", r.code, r.body)
	}
}

func TestValidateIsADryRun(t *testing.T) {
	srv, _ := newPublishServer(t)
	h := srv.Handler()
	valid := func(r resp) ValidateResponse {
		t.Helper()
		if r.code != http.StatusOK {
			t.Fatalf("validate: %d %s", r.code, r.body)
		}
		var v ValidateResponse
		if err := json.Unmarshal([]byte(r.body), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := valid(post(t, h, "/v0/validate", pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/w:1")))
	if !v.Valid || len(v.Issues) != 0 || v.Meta.Publish.Decision != "published" || v.Meta.Publish.Created {
		t.Fatalf("valid: %+v", v)
	}
	if g := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0"); g.code != http.StatusNotFound {
		t.Fatalf("validate recorded the version: %d", g.code)
	}
	if g := get(t, h, "/v0.1/x/dev.vetted/audit"); strings.Contains(g.body, `"type":"publish.decision"`) {
		t.Fatalf("validate wrote an audit event: %s", g.body)
	}

	// A version a publish would reject: valid false, the failing check as an error issue.
	v = valid(post(t, h, "/v0.1/validate", pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/unsigned:1")))
	if v.Valid || v.Meta.Publish.Decision != "rejected" || !slices.ContainsFunc(v.Issues, func(i ValidationIssue) bool {
		return i.Severity == "error" && i.Reference == "vetted.signature" && strings.Contains(i.Message, "no verified signature")
	}) {
		t.Fatalf("rejected: %+v", v)
	}

	// A name the caller may not publish: checked as if it could, and said so; but statically
	// (an unsigned image is not even fetched, so it is no issue), so that a caller who may
	// not publish cannot make the registry fetch and verify on their behalf.
	v = valid(post(t, h, "/v0/validate", pubBody("io.github.other/thing", "1.0.0", "ghcr.io/acme/unsigned:1")))
	if !v.Valid || !slices.ContainsFunc(v.Meta.Publish.Warnings, func(w string) bool { return strings.Contains(w, "authorization not checked") }) ||
		!slices.ContainsFunc(v.Meta.Publish.Warnings, func(w string) bool { return strings.Contains(w, "packages not resolved, verified or scanned") }) {
		t.Fatalf("other namespace: %+v", v)
	}
	for _, c := range v.Meta.Publish.Checks {
		if c.Name == "signature" || c.Name == "resolve" || c.Name == "scan" {
			t.Fatalf("static dry run ran %s: %+v", c.Name, v.Meta.Publish.Checks)
		}
	}

	// A publish after the dry runs is the first one.
	if r := post(t, h, "/v0/publish", pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/w:1")); r.code != http.StatusOK || !strings.Contains(r.body, `"created":true`) {
		t.Fatalf("publish after validate: %d %s", r.code, r.body)
	}
}

func TestStatusRoutesAnswer501(t *testing.T) {
	srv, _ := newPublishServer(t)
	h := srv.Handler()
	for _, path := range []string{
		"/v0/servers/io.github.acme%2Fweather/versions/1.0.0/status",
		"/v0.1/servers/io.github.acme%2Fweather/status",
	} {
		r := httptest.NewRequest(http.MethodPatch, path, strings.NewReader(`{"status":"deprecated"}`))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNotImplemented || !strings.Contains(problemText(t, w.Body.String()), "/quarantine") {
			t.Errorf("PATCH %s: %d %s", path, w.Code, w.Body.String())
		}
	}
}
