package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// BenchmarkVerify measures one token verification per algorithm, keys cached.
func BenchmarkVerify(b *testing.B) {
	clock := newClock()
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			k := newTestKey(b, "k", alg)
			iss := "https://idp.example.com"
			v, err := NewVerifier(testAudience, WithStaticIssuer(IssuerConfig{Issuer: iss, DefaultRoles: []Role{RoleReader}}, k.public()), WithClock(clock.Now))
			if err != nil {
				b.Fatal(err)
			}
			tok := sign(b, k, baseClaims(iss, testAudience, clock.Now()))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMiddleware measures the whole HTTP check (rate limits, verification, context)
// for an anonymous read and for a bearer token.
func BenchmarkMiddleware(b *testing.B) {
	clock := newClock()
	k := newTestKey(b, "k", jose.EdDSA)
	iss := "https://idp.example.com"
	v, err := NewVerifier(testAudience, WithStaticIssuer(IssuerConfig{Issuer: iss, DefaultRoles: []Role{RoleReader}}, k.public()), WithClock(clock.Now))
	if err != nil {
		b.Fatal(err)
	}
	svc, err := NewService(v, testResource, WithRateLimits(RateLimit{Rate: 1e9, Burst: 1e9}, RateLimit{Rate: 1e9, Burst: 1e9}))
	if err != nil {
		b.Fatal(err)
	}
	h := svc.Middleware(RequireHandler(PermRead, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	tok := sign(b, k, baseClaims(iss, testAudience, clock.Now().Add(time.Minute)))
	for _, c := range []struct{ name, auth string }{{"anonymous", ""}, {"bearer-EdDSA", "Bearer " + tok}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v0.1/servers", nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

func BenchmarkAuthorize(b *testing.B) {
	p := &Principal{Issuer: "i", Subject: "s", Roles: []Role{RolePublisher}, Namespaces: []Pattern{MustParsePattern("io.github.acme/*"), MustParsePattern("com.example/x")}}
	b.ReportAllocs()
	for b.Loop() {
		if err := Authorize(p, PermPublish, "io.github.acme/weather"); err != nil {
			b.Fatal(err)
		}
	}
}
