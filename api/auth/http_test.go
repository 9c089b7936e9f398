package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	testResource = "https://vetted.example.com"
	testAudience = testResource
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is Vetted's auth in front of a mux with a read, a publish and a review route; the
// last two "write" (count) only after authorization.
type harness struct {
	clock    *fakeClock
	idp      *testIssuer
	k1, k3   testKey // published at start (RS256, EdDSA)
	k2       testKey // published after rotation (ES256)
	verifier *Verifier
	svc      *Service
	srv      *httptest.Server
	writes   atomic.Int64
	audit    *syncBuffer
	slept    atomic.Int64 // nanoseconds waited for a key fetch slot
}

type harnessOpts struct {
	service []ServiceOption
}

func newHarness(t *testing.T, ho harnessOpts) *harness {
	t.Helper()
	h := &harness{clock: newClock(), audit: &syncBuffer{}}
	h.k1 = newTestKey(t, "k1", jose.RS256)
	h.k2 = newTestKey(t, "k2", jose.ES256)
	h.k3 = newTestKey(t, "k3", jose.EdDSA)
	h.idp = newTestIssuer(t, "idp.example.com", h.k1, h.k3)
	res := resolver{"idp.example.com": addrs("127.0.0.1")}
	client := guardFor(t, res, []string{"idp.example.com"}, h.idp.srv, "127.0.0.1/32")
	v, err := NewVerifier(testAudience,
		WithIssuer(IssuerConfig{
			Issuer:      h.idp.issuer,
			RolesClaim:  "groups",
			RoleMapping: map[string]Role{"sec": RoleReviewer, "ops": RoleAdmin, "staff": RoleReader},
		}),
		WithPublisherRules(PublisherRule{Namespace: "io.github.acme/*", Issuer: h.idp.issuer, Claims: map[string]string{"repository_owner": "acme"}}),
		WithHTTPClient(client),
		WithClock(h.clock.Now),
		WithJWKSRefresh(5*time.Second, 10*time.Minute),
	)
	if err != nil {
		t.Fatal(err)
	}
	h.verifier = v
	// Waiting for the next fetch slot advances the test's clock instead of sleeping.
	v.issuers[h.idp.issuer].keys.(*remoteKeys).sleep = func(ctx context.Context, d time.Duration) error {
		h.slept.Add(int64(d))
		h.clock.Advance(d)
		return ctx.Err()
	}
	opts := append([]ServiceOption{
		WithAuditLogger(slog.New(slog.NewJSONHandler(h.audit, nil))),
		WithServiceClock(h.clock.Now),
		WithBodyLimits(4096, RouteLimit{Method: http.MethodPost, PathPrefix: "/v0.1/publish", Bytes: 1024}),
	}, ho.service...)
	h.svc, err = NewService(v, testResource, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.svc.Register(mux)
	mux.Handle("GET /v0.1/servers", RequireHandler(PermRead, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"servers":[]}`)
	})))
	mux.HandleFunc("POST /v0.1/publish", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Name string `json:"name"`
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			if !WriteError(w, err) {
				http.Error(w, err.Error(), http.StatusBadRequest)
			}
			return
		}
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		if err := Require(r.Context(), PermPublish, in.Name); err != nil {
			WriteError(w, err)
			return
		}
		h.writes.Add(1)
		io.WriteString(w, `{"status":"published"}`)
	})
	mux.Handle("POST /v0.1/x/review/approve", RequireHandler(PermReview, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.writes.Add(1)
		io.WriteString(w, `{"status":"approved"}`)
	})))
	h.srv = httptest.NewServer(h.svc.Middleware(SecurityHeaders(mux)))
	t.Cleanup(h.srv.Close)
	return h
}

// claims returns valid claims of the acme publisher at the harness' time.
func (h *harness) claims() claims {
	return baseClaims(h.idp.issuer, testAudience, h.clock.Now()).with(
		"repository_owner", "acme",
		"repository", "acme/weather",
		"ref", "refs/heads/main",
	)
}

type response struct {
	status  int
	header  http.Header
	problem Problem
	body    string
}

func (h *harness) do(t *testing.T, method, path, token, body string, mod ...func(*http.Request)) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, m := range mod {
		m(req)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		if err := json.Unmarshal(b, &out.problem); err != nil {
			t.Fatalf("problem body %q: %v", b, err)
		}
	}
	return out
}

func publishBody(name string) string { return `{"name":"` + name + `"}` }

// unsigned builds a token with alg "none" by hand: the attack under test.
func unsigned(c claims) string {
	hdr, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	pl, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(pl) + "."
}

// hmacWithPublicKey signs with HS256 using the RSA public key's bytes as the secret: the
// classic algorithm-confusion attack.
func hmacWithPublicKey(t *testing.T, k testKey, c claims) string {
	t.Helper()
	pub, err := json.Marshal(k.public())
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: pub, KeyID: k.kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(map[string]any(c)).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestHTTPAuthentication(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := h.clock.Now()
	forged := newTestKey(t, "k1", jose.RS256) // same kid as k1, different key
	stranger := newTestKey(t, "kx", jose.RS256)
	lookalike := strings.Replace(h.idp.issuer, "idp.example.com", "idp.examp1e.com", 1)

	tests := []struct {
		name       string
		token      string
		method     string
		path       string
		body       string
		mod        func(*http.Request)
		status     int
		reason     string // substring of problem.reason
		permission Permission
		written    bool
	}{
		{name: "valid publisher publishes its namespace", token: sign(t, h.k1, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 200, written: true},
		{name: "valid token signed with EdDSA", token: sign(t, h.k3, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/other"), status: 200, written: true},
		{name: "expired within clock skew is accepted", token: sign(t, h.k1, h.claims().with("exp", now.Add(-30*time.Second).Unix(), "iat", now.Add(-time.Hour).Unix(), "nbf", now.Add(-time.Hour).Unix())),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/skew"), status: 200, written: true},
		{name: "wrong audience", token: sign(t, h.k1, h.claims().with("aud", "https://other-registry.example.com")),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonAudience)},
		{name: "audience list without ours", token: sign(t, h.k1, h.claims().with("aud", []string{"sigstore", "https://vetted.example.com/"})),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonAudience)},
		{name: "expired", token: sign(t, h.k1, h.claims().with("exp", now.Add(-2*time.Minute).Unix(), "iat", now.Add(-time.Hour).Unix(), "nbf", now.Add(-time.Hour).Unix())),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonExpired)},
		{name: "not yet valid", token: sign(t, h.k1, h.claims().with("nbf", now.Add(5*time.Minute).Unix())),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonNotYetValid)},
		{name: "issued in the future", token: sign(t, h.k1, h.claims().with("iat", now.Add(5*time.Minute).Unix(), "nbf", nil)),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonIssuedInFuture)},
		// A maximum lifetime for every issuer (issue 17 item 9; default 24h).
		{name: "ten-year token", token: sign(t, h.k1, h.claims().with("exp", now.Add(10*365*24*time.Hour).Unix())),
			method: "GET", path: "/v0.1/servers", status: 401, reason: string(ReasonLifetime)},
		{name: "backdated token with a near exp", token: sign(t, h.k1, h.claims().with("iat", now.Add(-48*time.Hour).Unix(), "nbf", nil, "exp", now.Add(time.Hour).Unix())),
			method: "GET", path: "/v0.1/servers", status: 401, reason: string(ReasonLifetime)},
		{name: "two days left, no iat", token: sign(t, h.k1, h.claims().with("iat", nil, "exp", now.Add(48*time.Hour).Unix())),
			method: "GET", path: "/v0.1/servers", status: 401, reason: string(ReasonLifetime)},
		{name: "exactly the maximum lifetime", token: sign(t, h.k1, h.claims().with("iat", now.Unix(), "exp", now.Add(DefaultMaxTokenLifetime).Unix())),
			method: "GET", path: "/v0.1/servers", status: 200},
		{name: "no expiry", token: sign(t, h.k1, h.claims().with("exp", nil)),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonNoExpiry)},
		{name: "no subject", token: sign(t, h.k1, h.claims().with("sub", nil)),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonNoSubject)},
		{name: "alg none", token: unsigned(h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonAlgorithm)},
		{name: "HS256 signed with the public key", token: hmacWithPublicKey(t, h.k1, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonAlgorithm)},
		{name: "unknown kid", token: sign(t, stranger, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonUnknownKey)},
		{name: "known kid, wrong key", token: sign(t, forged, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonSignature)},
		{name: "issuer with a trailing slash", token: sign(t, h.k1, h.claims().with("iss", h.idp.issuer+"/")),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonIssuer)},
		{name: "look-alike issuer host", token: sign(t, h.k1, h.claims().with("iss", lookalike)),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonIssuer)},
		{name: "issuer differing in case", token: sign(t, h.k1, h.claims().with("iss", strings.ToUpper(h.idp.issuer))),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonIssuer)},
		{name: "garbage token", token: "not.a.jwt",
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonMalformed)},
		{name: "basic auth", mod: func(r *http.Request) { r.SetBasicAuth("u", "p") },
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 401, reason: string(ReasonScheme)},
		{name: "token in the query string", path: "/v0.1/servers?access_token=" + sign(t, h.k1, h.claims()),
			method: "GET", status: 401, reason: string(ReasonTokenInQuery)},
		{name: "publisher of acme publishing acme-evil", token: sign(t, h.k1, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme-evil/x"), status: 403, permission: PermPublish, reason: "not in the caller's namespaces"},
		{name: "publisher of acme publishing other", token: sign(t, h.k1, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.other/x"), status: 403, permission: PermPublish, reason: "not in the caller's namespaces"},
		{name: "publisher of acme publishing a sub-namespace", token: sign(t, h.k1, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme.evil/x"), status: 403, permission: PermPublish, reason: "not in the caller's namespaces"},
		{name: "publisher of acme publishing a nested name", token: sign(t, h.k1, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/x/y"), status: 403, permission: PermPublish, reason: "not in the caller's namespaces"},
		{name: "owner acme-evil is no publisher of acme", token: sign(t, h.k1, h.claims().with("repository_owner", "acme-evil")),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 403, permission: PermPublish, reason: "none of the caller's roles"},
		{name: "owner claim as a list does not match", token: sign(t, h.k1, h.claims().with("repository_owner", []string{"acme"})),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 403, permission: PermPublish, reason: "none of the caller's roles"},
		{name: "publisher calling a reviewer operation", token: sign(t, h.k1, h.claims()),
			method: "POST", path: "/v0.1/x/review/approve", status: 403, permission: PermReview, reason: "none of the caller's roles [publisher]"},
		{name: "reviewer approves", token: sign(t, h.k1, h.claims().with("repository_owner", nil, "groups", []string{"sec"})),
			method: "POST", path: "/v0.1/x/review/approve", status: 200, written: true},
		{name: "reviewer cannot publish", token: sign(t, h.k1, h.claims().with("repository_owner", nil, "groups", []string{"sec"})),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"), status: 403, permission: PermPublish, reason: "none of the caller's roles [reviewer]"},
		{name: "admin publishes anywhere", token: sign(t, h.k1, h.claims().with("repository_owner", nil, "groups", "ops")),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.other/x"), status: 200, written: true},
		{name: "token without roles cannot read", token: sign(t, h.k1, h.claims().with("repository_owner", nil)),
			method: "GET", path: "/v0.1/servers", status: 403, permission: PermRead, reason: "none of the caller's roles []"},
		{name: "anonymous publish", method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/weather"),
			status: 401, permission: PermPublish, reason: "authentication required"},
		{name: "anonymous read", method: "GET", path: "/v0.1/servers", status: 200},
		{name: "oversized body with Content-Length", token: sign(t, h.k1, h.claims()),
			method: "POST", path: "/v0.1/publish", body: publishBody("io.github.acme/" + strings.Repeat("a", 2000)), status: 413, reason: "request body too large"},
		{name: "oversized chunked body", token: sign(t, h.k1, h.claims()), mod: func(r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(strings.NewReader(publishBody("io.github.acme/" + strings.Repeat("a", 2000))))
		},
			method: "POST", path: "/v0.1/publish", status: 413, reason: "request body too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.writes.Load()
			var mods []func(*http.Request)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			r := h.do(t, tc.method, tc.path, tc.token, tc.body, mods...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if wrote := h.writes.Load() != before; wrote != tc.written {
				t.Fatalf("written = %v, want %v", wrote, tc.written)
			}
			if tc.status < 400 {
				return
			}
			if r.problem.Status != tc.status || !strings.Contains(r.problem.Reason, tc.reason) {
				t.Fatalf("problem %+v: want status %d and a reason containing %q", r.problem, tc.status, tc.reason)
			}
			if tc.permission != "" && r.problem.Permission != string(tc.permission) {
				t.Fatalf("problem names permission %q, want %q", r.problem.Permission, tc.permission)
			}
			if tc.status == 401 {
				want := `Bearer resource_metadata="` + testResource + MetadataPath + `"`
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, want) {
					t.Fatalf("WWW-Authenticate %q, want prefix %q", got, want)
				}
			}
			if tc.status == 403 && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
				t.Fatalf("403 without insufficient_scope challenge: %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// Every refusal is in the audit log with route and reason; no token ever is.
	log := h.audit.String()
	for _, want := range []string{`"msg":"authentication failed"`, `"msg":"authorization denied"`, `"route":"/v0.1/publish"`, `"reason":"wrong audience"`, `"permission":"review"`, `"identity":"` + h.idp.issuer + `#repo:acme/weather:ref:refs/heads/main"`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if strings.Contains(log, "eyJ") {
		t.Error("audit log contains token material")
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("per identity", func(t *testing.T) {
		h := newHarness(t, harnessOpts{service: []ServiceOption{WithRateLimits(RateLimit{Rate: 1, Burst: 2}, RateLimit{Rate: 1000, Burst: 1000})}})
		tok := sign(t, h.k1, h.claims())
		for i := range 2 {
			if r := h.do(t, "POST", "/v0.1/publish", tok, publishBody("io.github.acme/weather")); r.status != 200 {
				t.Fatalf("request %d: %d", i, r.status)
			}
		}
		r := h.do(t, "POST", "/v0.1/publish", tok, publishBody("io.github.acme/weather"))
		if r.status != 429 || r.problem.Reason != "rate limit per identity" || r.header.Get("Retry-After") != "1" {
			t.Fatalf("third request: %d %+v Retry-After=%q", r.status, r.problem, r.header.Get("Retry-After"))
		}
		if h.writes.Load() != 2 {
			t.Fatalf("writes = %d, want 2", h.writes.Load())
		}
		// A flood is logged once, not per request.
		for range 3 {
			h.do(t, "POST", "/v0.1/publish", tok, publishBody("io.github.acme/weather"))
		}
		if n := strings.Count(h.audit.String(), `"msg":"rate limited"`); n != 1 {
			t.Fatalf("rate limiting logged %d times, want once per episode", n)
		}
		// Another identity is not affected; the first recovers with time.
		other := sign(t, h.k1, h.claims().with("sub", "someone-else"))
		if r := h.do(t, "POST", "/v0.1/publish", other, publishBody("io.github.acme/weather")); r.status != 200 {
			t.Fatalf("other identity: %d", r.status)
		}
		h.clock.Advance(time.Second)
		if r := h.do(t, "POST", "/v0.1/publish", tok, publishBody("io.github.acme/weather")); r.status != 200 {
			t.Fatalf("after a second: %d", r.status)
		}
	})
	t.Run("per address", func(t *testing.T) {
		h := newHarness(t, harnessOpts{service: []ServiceOption{WithRateLimits(RateLimit{Rate: 1000, Burst: 1000}, RateLimit{Rate: 0.5, Burst: 3})}})
		for i := range 3 {
			if r := h.do(t, "GET", "/v0.1/servers", "", ""); r.status != 200 {
				t.Fatalf("request %d: %d", i, r.status)
			}
		}
		r := h.do(t, "POST", "/v0.1/publish", sign(t, h.k1, h.claims()), publishBody("io.github.acme/weather"))
		if r.status != 429 || r.problem.Reason != "rate limit per address" || r.header.Get("Retry-After") != "2" {
			t.Fatalf("fourth request: %d %+v Retry-After=%q", r.status, r.problem, r.header.Get("Retry-After"))
		}
		if h.writes.Load() != 0 {
			t.Fatal("a rate-limited request wrote")
		}
	})
}

func TestAnonymousReadSwitch(t *testing.T) {
	h := newHarness(t, harnessOpts{service: []ServiceOption{WithAnonymousRead(false)}})
	r := h.do(t, "GET", "/v0.1/servers", "", "")
	if r.status != 401 || r.problem.Permission != "read" || r.problem.Reason != "authentication required" {
		t.Fatalf("anonymous read with the switch off: %d %+v", r.status, r.problem)
	}
	staff := sign(t, h.k1, h.claims().with("repository_owner", nil, "groups", []string{"staff", "unmapped"}))
	if r := h.do(t, "GET", "/v0.1/servers", staff, ""); r.status != 200 {
		t.Fatalf("reader: %d %s", r.status, r.body)
	}
}

func TestProtectedResourceMetadata(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.do(t, "GET", MetadataPath, "", "")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	var md ResourceMetadata
	if err := json.Unmarshal([]byte(r.body), &md); err != nil {
		t.Fatal(err)
	}
	if md.Resource != testResource || len(md.AuthorizationServers) != 1 || md.AuthorizationServers[0] != h.idp.issuer ||
		len(md.BearerMethodsSupported) != 1 || md.BearerMethodsSupported[0] != "header" {
		t.Fatalf("metadata %+v", md)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("missing nosniff")
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	clock := newClock()
	k := newTestKey(t, "k1", jose.RS256)
	idp := newTestIssuer(t, "idp.example.com", k)
	idp.discovered = idp.issuer + "/" // the document claims another issuer
	res := resolver{"idp.example.com": addrs("127.0.0.1")}
	v, err := NewVerifier(testAudience, WithIssuer(IssuerConfig{Issuer: idp.issuer, DefaultRoles: []Role{RoleReader}}),
		WithHTTPClient(guardFor(t, res, []string{"idp.example.com"}, idp.srv, "127.0.0.1/32")), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), sign(t, k, baseClaims(idp.issuer, testAudience, clock.Now())))
	var ae *AuthnError
	if !errors.As(err, &ae) || ae.Reason != ReasonKeysUnavailable || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("want keys unavailable because discovery names another issuer, got %v (%v)", err, errors.Unwrap(err))
	}
	if idp.jwksHits.Load() != 0 {
		t.Fatal("JWKS fetched despite the issuer mismatch")
	}
}

func TestVerifierConfigRefused(t *testing.T) {
	tests := []struct {
		name string
		opts []VerifierOption
		want string
	}{
		{"http issuer", []VerifierOption{WithIssuer(IssuerConfig{Issuer: "http://idp.example.com"})}, "https URL"},
		{"rule without claims", []VerifierOption{WithIssuer(IssuerConfig{Issuer: "https://idp.example.com"}),
			WithPublisherRules(PublisherRule{Namespace: "io.github.acme/*", Issuer: "https://idp.example.com"})}, "at least one claim condition"},
		{"rule for unknown issuer", []VerifierOption{WithIssuer(IssuerConfig{Issuer: "https://idp.example.com"}),
			WithPublisherRules(PublisherRule{Namespace: "io.github.acme/*", Issuer: "https://idp.example.com/", Claims: map[string]string{"repository_owner": "acme"}})}, "is not configured"},
		{"bad pattern", []VerifierOption{WithIssuer(IssuerConfig{Issuer: "https://idp.example.com"}),
			WithPublisherRules(PublisherRule{Namespace: "io.github.*/*", Issuer: "https://idp.example.com", Claims: map[string]string{"a": "b"}})}, "namespace"},
		{"unknown role", []VerifierOption{WithIssuer(IssuerConfig{Issuer: "https://idp.example.com", DefaultRoles: []Role{"root"}})}, "unknown role"},
		{"duplicate issuer", []VerifierOption{WithIssuer(IssuerConfig{Issuer: "https://idp.example.com"}), WithIssuer(IssuerConfig{Issuer: "https://idp.example.com"})}, "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewVerifier(testAudience, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	if _, err := NewVerifier(""); err == nil {
		t.Fatal("empty audience accepted")
	}
}

// A client that hangs up while the keys are first fetched does not make the issuer
// unavailable for everyone else.
func TestJWKSFetchSurvivesCanceledRequest(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.verifier.Verify(ctx, sign(t, h.k1, h.claims()))
	if err != nil {
		t.Fatalf("verification with a canceled request context: %v", err)
	}
	if r := h.do(t, "POST", "/v0.1/publish", sign(t, h.k1, h.claims()), publishBody("io.github.acme/weather")); r.status != 200 {
		t.Fatalf("after a canceled first fetch: %d %+v", r.status, r.problem)
	}
}
