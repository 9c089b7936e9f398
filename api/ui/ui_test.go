package ui_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/api/ui"
	"github.com/vetted-dev/vetted/registry"
)

// client is a browser stand-in: it keeps cookies by hand (Secure cookies over the test's
// plain HTTP), follows no redirects, and sends the headers a browser sends on form posts.
type client struct {
	t       *testing.T
	base    string
	cookies map[string]*http.Cookie
}

func newClient(t *testing.T, base string) *client {
	return &client{t: t, base: base, cookies: map[string]*http.Cookie{}}
}

func (c *client) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.base + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if strings.HasPrefix(u, c.base) {
		for _, ck := range c.cookies {
			if strings.HasPrefix(req.URL.Path, ck.Path) {
				req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
			}
		}
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(u, c.base) {
		for _, ck := range resp.Cookies() {
			if ck.MaxAge < 0 {
				delete(c.cookies, ck.Name)
			} else {
				c.cookies[ck.Name] = ck
			}
		}
	}
	return resp, string(b)
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, `name="csrf" value="`)
	if i < 0 {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	s := page[i+len(`name="csrf" value="`):]
	return s[:strings.IndexByte(s, '"')]
}

func (c *client) login(token string) {
	c.t.Helper()
	_, page := c.do("GET", "/ui/login", nil, nil)
	resp, body := c.do("POST", "/ui/login", url.Values{"csrf": {csrfOf(c.t, page)}, "token": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
}

func TestPagesSecurity(t *testing.T) {
	e := newEnv(t)
	c := newClient(t, e.srv.URL)
	c.login(e.token(t, "alice", auth.RoleReviewer))
	resp, page := c.do("GET", "/ui/review/io.github.acme/weather/1.1.0", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("review page: %d", resp.StatusCode)
	}
	for k, want := range map[string]string{"Content-Security-Policy": ui.CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if strings.Contains(page, "<script") || !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, `<th scope="col">`) ||
		!strings.Contains(page, `<label for="approve-reason">`) {
		t.Error("the review page lacks its accessible markup or carries a script")
	}
	csrf := csrfOf(t, page)
	approve := "/ui/versions/io.github.acme/weather/1.1.0/approve"
	cases := []struct {
		name   string
		form   url.Values
		hdr    map[string]string
		status int
		why    string
	}{
		{"no CSRF token", url.Values{"reason": {"ok"}}, nil, http.StatusForbidden, "CSRF token is missing"},
		{"another CSRF token", url.Values{"reason": {"ok"}, "csrf": {strings.Repeat("A", len(csrf))}}, nil, http.StatusForbidden, "does not match"},
		{"cross-site", url.Values{"reason": {"ok"}, "csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, "Sec-Fetch-Site: cross-site"},
		{"other origin", url.Values{"reason": {"ok"}, "csrf": {csrf}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden, "evil.example"},
		// Same host and port, another scheme: another origin (issue 17 item 9).
		{"same host, other scheme", url.Values{"reason": {"ok"}, "csrf": {csrf}}, map[string]string{"Origin": strings.Replace(e.srv.URL, "http://", "https://", 1)}, http.StatusForbidden, "is not this registry"},
		{"opaque origin", url.Values{"reason": {"ok"}, "csrf": {csrf}}, map[string]string{"Origin": "null"}, http.StatusForbidden, "is not this registry"},
		{"no reason", url.Values{"reason": {"  "}, "csrf": {csrf}}, nil, http.StatusBadRequest, "The reason field: a reason is required"},
	}
	for _, tc := range cases {
		resp, body := c.do("POST", approve, tc.form, tc.hdr)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.why) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", tc.name, resp.StatusCode, tc.status, tc.why, body)
		}
	}
	if v, _ := e.store.GetVersion(t.Context(), registry.Key{Name: "io.github.acme/weather", Version: "1.1.0"}); v.Status != registry.StatusPendingReview {
		t.Fatalf("a refused request changed the version: %s", v.Status)
	}
	resp, _ = c.do("POST", approve, url.Values{"reason": {"reviewed"}, "csrf": {csrf}}, map[string]string{"Origin": e.srv.URL, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "?done=approve") {
		t.Fatalf("approve: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The CSRF token of one sign-in is useless with another's cookie.
	other := newClient(t, e.srv.URL)
	other.login(e.token(t, "bob", auth.RoleReviewer))
	if resp, body := other.do("POST", "/ui/versions/io.github.acme/weather/1.1.0/quarantine", url.Values{"reason": {"x"}, "csrf": {csrf}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("alice's CSRF token with bob's cookie: %d %s", resp.StatusCode, body)
	}
	// A publisher's post with its own valid CSRF token is still refused: 403 page.
	pub := newClient(t, e.srv.URL)
	pub.login(e.token(t, "ci", auth.RolePublisher))
	_, forbidden := pub.do("GET", "/ui/", nil, nil)
	if resp, body := pub.do("POST", "/ui/versions/io.github.acme/notes/0.3.0/approve", url.Values{"reason": {"x"}, "csrf": {csrfOf(t, forbidden)}}, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "publisher") {
		t.Fatalf("publisher approves: %d %s", resp.StatusCode, body)
	}
	// A forged or foreign token in the cookie is verified like a bearer token: refused.
	forged := newClient(t, e.srv.URL)
	forged.cookies[ui.TokenCookie] = &http.Cookie{Name: ui.TokenCookie, Value: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", Path: "/ui"}
	if resp, body := forged.do("GET", "/ui/queue", nil, nil); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "refused") {
		t.Fatalf("forged token: %d %s", resp.StatusCode, body)
	}
	// An anonymous visit goes to the login form, which brings the visitor back.
	resp, _ = newClient(t, e.srv.URL).do("GET", "/ui/audit?type=vex.statement&actor=a", nil, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/ui/login?next="+url.QueryEscape("/ui/audit?type=vex.statement&actor=a") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, loc)
	}
	// Login redirects stay on the pages.
	_, page = newClient(t, e.srv.URL).do("GET", "/ui/login?next=https://evil.example/", nil, nil)
	if strings.Contains(page, "evil.example") {
		t.Fatal("the login form carries a foreign next URL")
	}
}

func TestPagesVEXAndAudit(t *testing.T) {
	e := newEnv(t)
	c := newClient(t, e.srv.URL)
	c.login(e.token(t, "alice", auth.RoleReviewer))
	_, page := c.do("GET", "/ui/vex", nil, nil)
	csrf := csrfOf(t, page)
	doc := `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://acme.example/vex/1","author":"sec@acme.example","timestamp":"2026-01-01T00:00:00Z","version":1,
"statements":[{"vulnerability":{"name":"CVE-2020-8203"},"products":[{"@id":"io.github.acme/files"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`
	resp, body := c.do("POST", "/ui/vex", url.Values{"csrf": {csrf}, "document": {doc}, "products": {"io.github.acme/weather"}, "reason": {"x"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "outside the scope") {
		t.Fatalf("out of scope: %d %s", resp.StatusCode, body)
	}
	resp, body = c.do("POST", "/ui/vex", url.Values{"csrf": {csrf}, "document": {doc}, "products": {"io.github.acme/files"}, "expires": {"2099-01-01"}, "reason": {"merge() unused"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	_, page = c.do("GET", "/ui/vulnerabilities?id=CVE-2020-8203", nil, nil)
	if !strings.Contains(page, "<strong>1</strong> published version(s) affected") {
		t.Fatalf("the VEX statement does not show on the vulnerability page:\n%s", page)
	}
	_, page = c.do("GET", "/ui/vex", nil, nil)
	docs, err := e.store.ListVEX(t.Context(), false)
	if err != nil || len(docs) != 1 {
		t.Fatal(docs, err)
	}
	resp, _ = c.do("POST", "/ui/vex/"+docs[0].ID+"/withdraw", url.Values{"csrf": {csrfOf(t, page)}, "reason": {"reachable"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", resp.StatusCode)
	}
	_, page = c.do("GET", "/ui/audit?type=vex.statement", nil, nil)
	if strings.Count(page, "vex.statement</td>") != 2 || !strings.Contains(page, "verified") {
		t.Fatalf("audit page:\n%s", page)
	}
	// The type filter offers every event type the registry writes, exceptions included.
	for _, typ := range []string{registry.AuditExceptionApply, registry.AuditExceptionExpire, registry.AuditExceptionRevoke, registry.AuditStatus} {
		if !strings.Contains(page, "<option>"+typ+"</option>") {
			t.Errorf("audit filter lacks %s", typ)
		}
	}
	resp, body = c.do("GET", "/ui/audit.jsonl?type=vex.statement", nil, nil)
	var events []registry.AuditEvent
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		var ev registry.AuditEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		events = append(events, ev)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jsonl" || len(events) != 2 {
		t.Fatalf("export: %d %s %d events", resp.StatusCode, resp.Header.Get("Content-Type"), len(events))
	}
	resp, body = c.do("GET", "/ui/scan/io.github.acme/files/2.0.0/sarif", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"version": "2.1.0"`) || !strings.Contains(resp.Header.Get("Content-Disposition"), ".sarif") {
		t.Fatalf("SARIF download: %d %s", resp.StatusCode, body)
	}
	if resp, body := c.do("GET", "/ui/scan/io.github.acme/files/2.0.0/json", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "GHSA-xvch-5gv4-984h") {
		t.Fatalf("JSON download: %d %s", resp.StatusCode, body)
	}
	if resp, _ := c.do("GET", "/ui/versions/io.github.acme/none/1.0.0", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("missing version: %d", resp.StatusCode)
	}
}

// idp is an OpenID provider for tests: authorization code with PKCE (S256 only), signing
// ID tokens for the registry's audience.
type idp struct {
	t        *testing.T
	url      string
	key      ed25519.PrivateKey
	kid      string
	mu       sync.Mutex
	codes    map[string]codeGrant
	subject  string
	groups   []string
	audience string
	extra    map[string]any // more claims of the ID token
}

type codeGrant struct {
	challenge, redirect, nonce string
}

func (p *idp) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.url, "authorization_endpoint": p.url + "/authorize", "token_endpoint": p.url + "/token", "jwks_uri": p.url + "/jwks"})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("client_id") != p.audience {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
		p.mu.Lock()
		p.codes[code] = codeGrant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), nonce: q.Get("nonce")}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		g, ok := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostFormValue("redirect_uri") != g.redirect {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "code, verifier or redirect mismatch"})
			return
		}
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: p.key, KeyID: p.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
		now := time.Now()
		tok, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: p.url, Subject: p.subject, Audience: jwt.Audience{p.audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}).
			Claims(map[string]any{"groups": p.groups, "nonce": g.nonce}).Claims(p.extra).Serialize()
		_ = json.NewEncoder(w).Encode(map[string]string{"id_token": tok, "access_token": "opaque", "token_type": "Bearer"})
	})
	return mux
}

func TestOIDCLogin(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	p := &idp{t: t, key: priv, kid: "k1", codes: map[string]codeGrant{}, subject: "carol@acme.example", groups: []string{"security"}, audience: audience}
	srv := newTestServer(t, p.handler())
	p.url = srv.URL
	e := newEnv(t, func(cfg *ui.Config, vopts *[]auth.VerifierOption) {
		*vopts = append(*vopts, auth.AllowHTTPIssuersUnsafe(), auth.WithStaticIssuer(auth.IssuerConfig{Issuer: p.url, RolesClaim: "groups",
			RoleMapping: map[string]auth.Role{"security": auth.RoleReviewer}}, jose.JSONWebKey{Key: pub, KeyID: "k1", Algorithm: string(jose.EdDSA), Use: "sig"}))
		authURL, tokenURL, err := ui.DiscoverOIDC(t.Context(), http.DefaultClient, p.url)
		if err != nil {
			t.Fatal(err)
		}
		cfg.OIDC = &ui.OIDC{Name: "Acme SSO", AuthorizationURL: authURL, TokenURL: tokenURL, ClientID: audience, RedirectURL: "http://placeholder/ui/oidc/callback"}
	})
	// The registry's URL is known once it listens: point the callback there.
	c := newClient(t, e.srv.URL)
	_, page := c.do("GET", "/ui/login", nil, nil)
	if !strings.Contains(page, "Sign in with Acme SSO") {
		t.Fatalf("login page without the provider:\n%s", page)
	}
	resp, _ := c.do("GET", "/ui/oidc/start?next=/ui/queue", nil, nil)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), p.url+"/authorize") || loc.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("start: %d %s", resp.StatusCode, loc)
	}
	if ck := c.cookies["vetted_ui_oidc"]; ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("login state cookie: %+v", ck)
	}
	// The provider redirects to the registered callback; replay that redirect on this registry.
	resp, _ = c.do("GET", loc.String(), nil, nil)
	cb, _ := url.Parse(resp.Header.Get("Location"))
	// A callback with another state is refused.
	bad := newClient(t, e.srv.URL)
	bad.cookies = map[string]*http.Cookie{}
	for k, v := range c.cookies {
		bad.cookies[k] = v
	}
	if resp, body := bad.do("GET", "/ui/oidc/callback?code="+cb.Query().Get("code")+"&state=forged", nil, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "state parameter does not match") {
		t.Fatalf("forged state: %d %s", resp.StatusCode, body)
	}
	resp, body := c.do("GET", "/ui/oidc/callback?"+cb.RawQuery, nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/ui/queue"`) {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	if ck := c.cookies[ui.TokenCookie]; ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("token cookie: %+v", ck)
	}
	if resp, body := c.do("GET", "/ui/queue", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "carol@acme.example") {
		t.Fatalf("queue after OIDC login: %d", resp.StatusCode)
	}
	// The code is single-use: replaying the callback fails (and the state cookie is gone).
	if resp, _ := c.do("GET", "/ui/oidc/callback?"+cb.RawQuery, nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d", resp.StatusCode)
	}
}

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
