package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/vetted-dev/vetted/internal/netguard"
)

// Every fetch the verifier makes (discovery, JWKS) goes through netguard: a JWKS URL or a
// discovered jwks_uri pointing at loopback, the metadata endpoint or a name resolving to a
// private address is refused before any connection, and so is a redirect to one.
func TestJWKSFetchSSRF(t *testing.T) {
	clock := newClock()
	k := newTestKey(t, "k1", jose.RS256)
	idp := newTestIssuer(t, "idp.example.com", k)
	var redirected atomic.Int64
	idp.srv.Config.Handler = redirector(idp.srv.Config.Handler, &redirected)

	res := resolver{
		"idp.example.com":      addrs("127.0.0.1"),
		"internal.example.com": addrs("10.1.2.3"),
		"meta.example.com":     addrs("169.254.169.254"),
	}
	hosts := []string{"idp.example.com", "internal.example.com", "meta.example.com", "127.0.0.1", "169.254.169.254"}
	// The issuer itself is on loopback here, so loopback is allowed only for its exact address
	// in the cases that need it.
	strict := guardFor(t, res, hosts, idp.srv)
	loopbackOK := guardFor(t, res, hosts, idp.srv, "127.0.0.1/32")

	tests := []struct {
		name     string
		client   *http.Client
		jwksURL  string // configured JWKS URL ("" = discovery)
		jwksURI  string // what discovery announces
		blockMsg string
	}{
		{name: "configured JWKS URL at 127.0.0.1", client: strict, jwksURL: "https://127.0.0.1:" + idp.port + "/jwks", blockMsg: "loopback"},
		{name: "configured JWKS URL at the metadata endpoint", client: loopbackOK, jwksURL: "https://169.254.169.254/latest/meta-data/", blockMsg: "metadata"},
		{name: "configured JWKS URL resolving to a private address", client: loopbackOK, jwksURL: "https://internal.example.com/jwks", blockMsg: "private"},
		{name: "issuer name resolving to loopback", client: strict, blockMsg: "loopback"},
		{name: "discovered jwks_uri at the metadata endpoint", client: loopbackOK, jwksURI: "https://meta.example.com/keys", blockMsg: "metadata"},
		{name: "discovered jwks_uri off the allowlist", client: loopbackOK, jwksURI: "https://evil.example.com/keys", blockMsg: "host not on the allowlist"},
		{name: "discovered jwks_uri redirecting to metadata", client: loopbackOK, jwksURI: idp.issuer + "/redirect?to=http://169.254.169.254/latest/meta-data/", blockMsg: "refused"},
		{name: "discovered jwks_uri redirecting to a private name", client: loopbackOK, jwksURI: idp.issuer + "/redirect?to=https://internal.example.com/jwks", blockMsg: "private"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp.mu.Lock()
			idp.jwksURI = tc.jwksURI
			idp.mu.Unlock()
			before := idp.jwksHits.Load()
			v, err := NewVerifier(testAudience,
				WithIssuer(IssuerConfig{Issuer: idp.issuer, JWKSURL: tc.jwksURL, DefaultRoles: []Role{RoleReader}}),
				WithHTTPClient(tc.client), WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), sign(t, k, baseClaims(idp.issuer, testAudience, clock.Now())))
			var ae *AuthnError
			if !errors.As(err, &ae) || ae.Reason != ReasonKeysUnavailable {
				t.Fatalf("want %q, got %v", ReasonKeysUnavailable, err)
			}
			var be *netguard.BlockedError
			if !errors.As(err, &be) && !errors.Is(err, netguard.ErrBlocked) {
				t.Fatalf("want a netguard refusal in the chain, got %v", err)
			}
			if !strings.Contains(err.Error()+" "+errorChain(err), tc.blockMsg) {
				t.Fatalf("refusal %q does not mention %q", errorChain(err), tc.blockMsg)
			}
			if idp.jwksHits.Load() != before {
				t.Fatal("the JWKS was served despite the refusal")
			}
		})
	}
	if redirected.Load() == 0 {
		t.Fatal("the redirect cases never reached the redirector")
	}
}

func errorChain(err error) string {
	var parts []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, " <- ")
}

func redirector(next http.Handler, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			n.Add(1)
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}
