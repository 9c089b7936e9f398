package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vetted-dev/vetted/internal/netguard"
)

// fakeClock is the injected time of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testKey is one signing key of the test issuer.
type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newTestKey(t testing.TB, kid string, alg jose.SignatureAlgorithm) testKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: kid, alg: alg, priv: priv}
}

func (k testKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// testIssuer is a real OIDC issuer over TLS: discovery and a JWKS whose keys it rotates.
type testIssuer struct {
	t      testing.TB
	srv    *httptest.Server
	issuer string // "https://<host>:<port>"
	port   string

	mu         sync.Mutex
	published  []testKey
	discovered string // issuer value in the discovery document ("" = issuer)
	jwksURI    string // jwks_uri in the discovery document ("" = issuer + /jwks)

	jwksHits      atomic.Int64
	discoveryHits atomic.Int64
}

// newTestIssuer serves an issuer for https://<host>:<port>; host must be covered by the
// httptest certificate (example.com, *.example.com).
func newTestIssuer(t testing.TB, host string, keys ...testKey) *testIssuer {
	t.Helper()
	ti := &testIssuer{t: t, published: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		ti.discoveryHits.Add(1)
		ti.mu.Lock()
		iss, jwks := ti.discovered, ti.jwksURI
		ti.mu.Unlock()
		if iss == "" {
			iss = ti.issuer
		}
		if jwks == "" {
			jwks = ti.issuer + "/jwks"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss,
			"jwks_uri":                              jwks,
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		ti.jwksHits.Add(1)
		ti.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range ti.published {
			set.Keys = append(set.Keys, k.public())
		}
		ti.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	})
	ti.srv = httptest.NewTLSServer(mux)
	t.Cleanup(ti.srv.Close)
	u, _ := url.Parse(ti.srv.URL)
	ti.port = u.Port()
	ti.issuer = "https://" + net.JoinHostPort(host, ti.port)
	return ti
}

// rotate replaces the published keys.
func (ti *testIssuer) rotate(keys ...testKey) {
	ti.mu.Lock()
	ti.published = keys
	ti.mu.Unlock()
}

// guard returns the netguard client that reaches the test issuers (at 127.0.0.1) under
// their names, and nothing else.
func guardFor(t testing.TB, res netguard.Resolver, hosts []string, srv *httptest.Server, allow ...string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	// The test issuers listen on a random port; an entry without one allows 443 only.
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	entries := append([]string(nil), hosts...)
	for _, h := range hosts {
		entries = append(entries, net.JoinHostPort(h, port))
	}
	opts := []netguard.Option{
		netguard.WithResolver(res),
		netguard.AllowHosts(entries...),
		netguard.WithTLSConfig(&tls.Config{RootCAs: pool}),
		netguard.Timeout(5 * time.Second),
	}
	for _, a := range allow {
		opts = append(opts, netguard.AllowNetworks(netip.MustParsePrefix(a)))
	}
	g, err := netguard.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g.Client()
}

// resolver maps names to addresses (the netguard seam).
type resolver map[string][]netip.Addr

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// claims is a token's claim set; std fields plus anything else.
type claims map[string]any

// baseClaims are valid claims for issuer and audience at now.
func baseClaims(issuer, audience string, now time.Time) claims {
	return claims{
		"iss": issuer,
		"sub": "repo:acme/weather:ref:refs/heads/main",
		"aud": audience,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
}

func (c claims) with(kv ...any) claims {
	out := claims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// sign signs c with k.
func sign(t testing.TB, k testKey, c claims) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(map[string]any(c)).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
