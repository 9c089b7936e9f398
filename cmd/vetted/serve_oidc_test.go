package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// vetted serve trusting a real OIDC issuer (discovery and JWKS over TLS, fetched through
// the outbound guard with a private CA), with a role mapping and a publisher rule from
// vetted.yaml: the configuration holds end to end.
func TestServeWithOIDCIssuer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "jwks_uri": issuer + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	idp := httptest.NewTLSServer(mux)
	defer idp.Close()
	issuer = idp.URL

	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Certificate().Raw}), 0o600)
	const resource = "https://vetted.example.com"
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte(`auth:
  resource: `+resource+`
  anonymous_read: false
  issuers:
    - issuer: `+issuer+`
      roles_claim: groups
      role_mapping: {sec: reviewer}
  publishers:
    - namespace: io.github.acme/*
      issuer: `+issuer+`
      claims: {repository_owner: acme}
outbound:
  allow_networks: [127.0.0.1/32]
  ca_file: `+ca+`
`), 0o600)
	addr, _ := startServe(t, nil, "--data-dir", filepath.Join(dir, "data"), "--config", cfg)
	base := "http://" + addr

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(aud string, extra map[string]any) string {
		now := time.Now()
		tok, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: issuer, Subject: "repo:acme/weather", Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}).Claims(extra).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	publisher := mint(resource, map[string]any{"repository_owner": "acme"})
	reviewer := mint(resource, map[string]any{"groups": []string{"sec"}})
	evil := mint(resource, map[string]any{"repository_owner": "acme-evil"})
	wrongAud := mint("https://other.example.com", map[string]any{"repository_owner": "acme"})

	tests := []struct {
		name, path, token string
		status            int
		body              string
	}{
		{"anonymous read is off", "/v0.1/servers", "", 401, `"permission":"read"`},
		{"publisher reads", "/v0.1/servers", publisher, 200, ""},
		{"publisher calls a reviewer operation", "/v0.1/x/dev.vetted/audit", publisher, 403, `"permission":"review"`},
		{"other owner has no role at all", "/v0.1/servers", evil, 403, `"permission":"read"`},
		{"token for another registry", "/v0.1/servers", wrongAud, 401, `"reason":"wrong audience"`},
		{"reviewer reads", "/v0.1/servers", reviewer, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := request(t, http.DefaultClient, "GET", base+tc.path, tc.token)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.body) {
				t.Fatalf("%d %s, want %d with %s", resp.StatusCode, body, tc.status, tc.body)
			}
		})
	}
	// The reviewer passes authorization on the reviewer operation (whatever the handler says).
	if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/x/dev.vetted/audit", reviewer); resp.StatusCode == 401 || resp.StatusCode == 403 {
		t.Fatalf("reviewer refused: %d %s", resp.StatusCode, body)
	}
}
