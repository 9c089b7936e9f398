package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

// FuzzVerify: no input panics the verifier, every refusal is an *AuthnError, and anything
// accepted was signed by the embedded key for this audience.
func FuzzVerify(f *testing.F) {
	seed := make([]byte, ed25519.SeedSize)
	si := newSelfIssuer(testResource, ed25519.NewKeyFromSeed(seed))
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	si.now = func() time.Time { return now }
	v, err := NewVerifier(testAudience, si.VerifierOption(), WithClock(si.now))
	if err != nil {
		f.Fatal(err)
	}
	good, _, err := si.Issue(TokenRequest{Subject: "ci", Audience: testAudience, Roles: []Role{RolePublisher}, Namespaces: []string{"com.example/*"}, TTL: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(unsigned(claims{"iss": testResource, "sub": "x", "aud": testAudience, "exp": now.Add(time.Hour).Unix()}))
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.AAAA")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(context.Background(), tok)
		if err != nil {
			var ae *AuthnError
			if !errors.As(err, &ae) {
				t.Fatalf("refusal is not an *AuthnError: %T %v", err, err)
			}
			return
		}
		if p.Issuer != testResource || p.Subject == "" || p.ExpiresAt.Before(now.Add(-DefaultClockSkew)) {
			t.Fatalf("accepted %q as %+v", tok, p)
		}
	})
}
