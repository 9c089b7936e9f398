package ui_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/api/ui"
	"github.com/vetted-dev/vetted/registry"
)

// The provider is down when the pages start: they serve, the provider's sign-in says it is
// unavailable (503) without hammering it, and works once it is back. The scopes requested
// are derived from the configuration (groups, which the roles come from, because the
// provider offers it); the pages show the reviewer's email, and the audit chain records
// "<issuer>|<subject> (<email>)".
func TestOIDCLazyDiscoveryScopesAndDisplayName(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	p := &idp{t: t, key: priv, kid: "k1", codes: map[string]codeGrant{}, subject: "CiQxMTExMTE", groups: []string{"security"},
		audience: audience, extra: map[string]any{"email": "carol@acme.example", "name": "Carol"}}
	var down atomic.Bool
	var discoveries atomic.Int64
	var scope atomic.Value
	inner := p.handler()
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			discoveries.Add(1)
			if down.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.url, "authorization_endpoint": p.url + "/authorize",
				"token_endpoint": p.url + "/token", "jwks_uri": p.url + "/jwks", "scopes_supported": []string{"openid", "profile", "email", "groups", "offline_access"}})
			return
		case "/authorize":
			scope.Store(r.URL.Query().Get("scope"))
		}
		inner.ServeHTTP(w, r)
	}))
	p.url = srv.URL
	down.Store(true)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, func(cfg *ui.Config, vopts *[]auth.VerifierOption) {
		*vopts = append(*vopts, auth.AllowHTTPIssuersUnsafe(), auth.WithStaticIssuer(auth.IssuerConfig{Issuer: p.url, RolesClaim: "groups",
			RoleMapping: map[string]auth.Role{"security": auth.RoleReviewer}}, jose.JSONWebKey{Key: pub, KeyID: "k1", Algorithm: string(jose.EdDSA), Use: "sig"}))
		cfg.OIDC = &ui.OIDC{Name: "Acme SSO", Issuer: p.url, ClientID: audience, RedirectURL: "http://placeholder/ui/oidc/callback",
			ClaimScopes: []string{"groups"}}
		cfg.Clock = clock
	})
	c := newClient(t, e.srv.URL)
	if resp, page := c.do("GET", "/ui/login", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign in with Acme SSO") {
		t.Fatalf("login page with the provider down: %d\n%s", resp.StatusCode, page)
	}
	if discoveries.Load() != 0 {
		t.Fatal("discovery before anyone signs in with the provider")
	}
	for range 3 {
		resp, body := c.do("GET", "/ui/oidc/start?next=/ui/queue", nil, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Identity provider unavailable") || !strings.Contains(body, "503") {
			t.Fatalf("start with the provider down: %d %s", resp.StatusCode, body)
		}
	}
	if n := discoveries.Load(); n != 1 {
		t.Fatalf("%d discoveries within the retry interval, want 1", n)
	}
	down.Store(false)
	mu.Lock()
	now = now.Add(ui.DiscoveryRetry)
	mu.Unlock()
	resp, _ := c.do("GET", "/ui/oidc/start?next=/ui/queue", nil, nil)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), p.url+"/authorize") {
		t.Fatalf("start with the provider back: %d %s", resp.StatusCode, loc)
	}
	if got := loc.Query().Get("scope"); got != "openid profile email groups" {
		t.Fatalf("scope %q, want the defaults plus groups", got)
	}
	resp, _ = c.do("GET", loc.String(), nil, nil)
	cb, _ := url.Parse(resp.Header.Get("Location"))
	if resp, body := c.do("GET", "/ui/oidc/callback?"+cb.RawQuery, nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	if n := discoveries.Load(); n != 2 {
		t.Fatalf("%d discoveries, want 2 (the endpoints are kept once found)", n)
	}
	resp, page := c.do("GET", "/ui/vex", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Signed in as <strong>carol@acme.example</strong>") {
		t.Fatalf("the pages do not show the reviewer's email: %d\n%s", resp.StatusCode, page)
	}
	doc := `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://acme.example/vex/1","author":"sec@acme.example","timestamp":"2026-01-01T00:00:00Z","version":1,
"statements":[{"vulnerability":{"name":"CVE-2020-8203"},"products":[{"@id":"io.github.acme/files"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`
	resp, body := c.do("POST", "/ui/vex", url.Values{"csrf": {csrfOf(t, page)}, "document": {doc}, "products": {"io.github.acme/files"}, "reason": {"merge() unused"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("VEX upload: %d %s", resp.StatusCode, body)
	}
	events, err := e.store.AuditEvents(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := p.url + "|CiQxMTExMTE (carol@acme.example)"
	var found bool
	for _, ev := range events {
		if ev.Type == registry.AuditVEX {
			found = ev.Actor == want
			if !found {
				t.Fatalf("audit actor %q, want %q", ev.Actor, want)
			}
		}
	}
	if !found {
		t.Fatal("no VEX event in the audit chain")
	}
}
