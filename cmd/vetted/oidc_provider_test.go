package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// testProvider is an OpenID provider over TLS for the serve tests, which behaves as Dex does
// where it matters: it releases the "groups" claim only when the "groups" scope is asked
// for, the ID token's audience is the client id, the code flow needs PKCE (S256) and the
// client secret. It can be down, and rotate its key.
type testProvider struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	caFile string

	clientID, secret string
	down             atomic.Bool
	jwksHits         atomic.Int64

	mu     sync.Mutex
	key    *rsa.PrivateKey
	kid    string
	codes  map[string]providerGrant
	scopes []string // of the last authorization request
	user   providerUser
}

type providerUser struct {
	sub, email string
	groups     []string
}

type providerGrant struct {
	challenge, redirect, nonce, scope string
}

func newTestProvider(t *testing.T, clientID, secret string) *testProvider {
	t.Helper()
	return newProvider(t, clientID, secret, true)
}

// newProvider is newTestProvider, over plain HTTP unless tls.
func newProvider(t *testing.T, clientID, secret string, tls bool) *testProvider {
	t.Helper()
	p := &testProvider{t: t, clientID: clientID, secret: secret, codes: map[string]providerGrant{}}
	p.rotate("k1")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": p.issuer, "jwks_uri": p.issuer + "/keys",
			"authorization_endpoint": p.issuer + "/auth", "token_endpoint": p.issuer + "/token",
			"scopes_supported":                      []string{"openid", "email", "groups", "profile", "offline_access"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		p.jwksHits.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != p.clientID || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
		p.mu.Lock()
		p.codes[code] = providerGrant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), nonce: q.Get("nonce"), scope: q.Get("scope")}
		p.scopes = strings.Fields(q.Get("scope"))
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		p.mu.Lock()
		g, ok := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code"))
		u := p.user
		p.mu.Unlock()
		if id != p.clientID || secret != p.secret {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
			return
		}
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostFormValue("redirect_uri") != g.redirect {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		extra := map[string]any{"nonce": g.nonce, "email": u.email}
		if slices.Contains(strings.Fields(g.scope), "groups") {
			extra["groups"] = u.groups
		}
		json.NewEncoder(w).Encode(map[string]string{"id_token": p.mint(p.clientID, u.sub, extra), "access_token": "opaque", "token_type": "bearer"})
	})
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	if !tls {
		p.srv.Start()
		t.Cleanup(p.srv.Close)
		p.issuer = p.srv.URL
		return p
	}
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	p.issuer = p.srv.URL
	p.caFile = filepath.Join(t.TempDir(), "idp-ca.pem")
	if err := os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rotate replaces the signing key by a new one named kid.
func (p *testProvider) rotate(kid string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.key, p.kid = k, kid
	p.mu.Unlock()
}

// mint signs a token of this provider for aud.
func (p *testProvider) mint(aud, sub string, extra map[string]any) string {
	p.mu.Lock()
	key, kid := p.key, p.kid
	p.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		p.t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: p.issuer, Subject: sub, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute))}).Claims(extra).Serialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return tok
}
