package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSelfIssuerKeyFile(t *testing.T) {
	dir := t.TempDir()
	s1, created, err := LoadOrCreateSelfIssuer(dir, testResource)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(filepath.Join(dir, KeyFile))); di.Mode().Perm() != 0o700 {
		t.Fatalf("key dir mode %04o, want 0700", di.Mode().Perm())
	}
	s2, created, err := LoadOrCreateSelfIssuer(dir, testResource)
	if err != nil || created {
		t.Fatalf("second start: created=%v err=%v", created, err)
	}
	if s1.PublicJWKS().Keys[0].KeyID != s2.PublicJWKS().Keys[0].KeyID {
		t.Fatal("the key changed between starts")
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateSelfIssuer(dir, testResource); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key was accepted: %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateSelfIssuer(dir, testResource); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Fatalf("a junk key was accepted: %v", err)
	}
}

// Tokens of the embedded issuer take the verifier's one path (static key set instead of a
// fetched one) and carry their roles and namespaces.
func TestSelfIssuedTokens(t *testing.T) {
	clock := newClock()
	si, _, err := LoadOrCreateSelfIssuer(t.TempDir(), testResource)
	if err != nil {
		t.Fatal(err)
	}
	si.now = clock.Now
	other, _, err := LoadOrCreateSelfIssuer(t.TempDir(), testResource) // same issuer name, other key
	if err != nil {
		t.Fatal(err)
	}
	other.now = clock.Now
	v, err := NewVerifier(testAudience, si.VerifierOption(), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	issue := func(s *SelfIssuer, req TokenRequest) string {
		t.Helper()
		tok, _, err := s.Issue(req)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	pubReq := TokenRequest{Subject: "ci", Audience: testAudience, Roles: []Role{RolePublisher}, Namespaces: []string{"com.example/*"}, TTL: time.Hour}

	p, err := v.Verify(context.Background(), issue(si, pubReq))
	if err != nil {
		t.Fatal(err)
	}
	if err := Authorize(p, PermPublish, "com.example/weather"); err != nil {
		t.Fatalf("own namespace: %v", err)
	}
	for _, name := range []string{"com.example-evil/x", "com.other/x", "com.example.sub/x"} {
		var de *DeniedError
		if err := Authorize(p, PermPublish, name); !errors.As(err, &de) || de.Permission != PermPublish {
			t.Fatalf("%s: want a publish denial, got %v", name, err)
		}
	}
	if err := Authorize(p, PermReview, ""); err == nil {
		t.Fatal("publisher may review")
	}

	wantReason := func(tok string, r Reason, says ...string) {
		t.Helper()
		_, err := v.Verify(context.Background(), tok)
		var ae *AuthnError
		if !errors.As(err, &ae) || ae.Reason != r {
			t.Fatalf("want %q, got %v", r, err)
		}
		for _, s := range says {
			if !strings.Contains(ae.Detail, s) {
				t.Errorf("%s: the detail %q does not say %q", r, ae.Detail, s)
			}
		}
	}
	// Signed by another data dir's key under the same issuer name: the detail says what to
	// check.
	wantReason(issue(other, pubReq), ReasonUnknownKey, "signed by a key this registry does not know (another data directory?)")
	// Another issuer name (a token issued for another registry URL): the detail names the
	// issuer and audience this registry expects.
	stranger, _, err := LoadOrCreateSelfIssuer(t.TempDir(), "http://127.0.0.1:9999")
	if err != nil {
		t.Fatal(err)
	}
	stranger.now = clock.Now
	wantReason(issue(stranger, pubReq), ReasonIssuer, `"http://127.0.0.1:9999" is not a configured issuer`,
		`expects issuer "`+testResource+`" and audience "`+testAudience+`"`)
	// Another registry's audience: the detail names the expected one.
	req := pubReq
	req.Audience = "https://other.example.com"
	wantReason(issue(si, req), ReasonAudience, `"https://other.example.com"`, `does not contain "`+testAudience+`"`)
	// Expired after its TTL.
	tok := issue(si, pubReq)
	clock.Advance(time.Hour + 2*time.Minute)
	wantReason(tok, ReasonExpired)

	for _, bad := range []TokenRequest{
		{Subject: "ci", Audience: testAudience, Roles: []Role{RolePublisher}, TTL: time.Hour},
		{Subject: "ci", Audience: testAudience, Roles: []Role{RoleReader}, TTL: 48 * time.Hour},
		{Subject: "ci", Audience: testAudience, Roles: []Role{"root"}, TTL: time.Hour},
		{Subject: "ci", Audience: testAudience, Roles: []Role{RolePublisher}, Namespaces: []string{"io.github.acme-*/x"}, TTL: time.Hour},
		{Audience: testAudience, Roles: []Role{RoleReader}, TTL: time.Hour},
	} {
		if _, _, err := si.Issue(bad); err == nil {
			t.Errorf("Issue(%+v) accepted", bad)
		}
	}
}

func TestSelfIssuerServedKeys(t *testing.T) {
	si, _, err := LoadOrCreateSelfIssuer(t.TempDir(), testResource)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(testAudience, si.VerifierOption())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(v, testResource, WithSelfIssuer(si))
	if err != nil {
		t.Fatal(err)
	}
	md := svc.Metadata()
	if len(md.AuthorizationServers) != 1 || md.AuthorizationServers[0] != testResource {
		t.Fatalf("metadata %+v", md)
	}
	jwks := si.PublicJWKS()
	if len(jwks.Keys) != 1 || !jwks.Keys[0].IsPublic() || jwks.Keys[0].Algorithm != "EdDSA" || jwks.Keys[0].KeyID == "" {
		t.Fatalf("JWKS %+v", jwks)
	}
}
