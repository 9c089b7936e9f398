package auth

import (
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// FuzzMiddleware: whatever a client puts in the Authorization header, X-Forwarded-For, the
// query and the path, the answer is a 2xx, 401, 403 or 429 — never a 5xx, never a panic —
// and a refusal never reaches the handler.
func FuzzMiddleware(f *testing.F) {
	si := newSelfIssuer(testResource, ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	si.now = func() time.Time { return now }
	v, err := NewVerifier(testAudience, si.VerifierOption(), WithClock(si.now))
	if err != nil {
		f.Fatal(err)
	}
	svc, err := NewService(v, testResource, WithTrustedProxies(netip.MustParsePrefix("192.0.2.0/24")),
		WithRateLimits(RateLimit{Rate: 1e6, Burst: 1e6}, RateLimit{Rate: 1e6, Burst: 1e6}))
	if err != nil {
		f.Fatal(err)
	}
	reached := false
	h := svc.Middleware(RequireHandler(PermPublish, func(r *http.Request) string { return r.URL.Query().Get("name") },
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })))
	good, _, _ := si.Issue(TokenRequest{Subject: "ci", Audience: testAudience, Roles: []Role{RolePublisher}, Namespaces: []string{"com.example/*"}, TTL: time.Hour})
	f.Add("Bearer "+good, "198.51.100.1", "name=com.example/x")
	f.Add("Bearer "+good, "", "name=com.example-evil/x")
	f.Add("bearer  "+good+" ", "1.1.1.1, 192.0.2.9", "access_token=x")
	f.Add("Basic dXNlcjpwYXNz", "::1", "name=")
	f.Fuzz(func(t *testing.T, authz, xff, query string) {
		r := httptest.NewRequest("GET", "/v0.1/publish", nil)
		r.URL.RawQuery = query
		r.RemoteAddr = "192.0.2.1:1234"
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		reached = false
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			if !reached {
				t.Fatal("200 without the handler")
			}
		case 401, 403, 429:
			if reached {
				t.Fatalf("%d but the handler ran", w.Code)
			}
			if w.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d without a problem document", w.Code)
			}
		default:
			t.Fatalf("status %d for %q %q %q", w.Code, authz, xff, query)
		}
	})
}
