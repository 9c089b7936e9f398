// Command fake-github-oidc is a stand-in for GitHub Actions' OIDC token service, for the
// mcp-publisher end-to-end test (examples/e2e.d/66-mcp-publisher.sh). It serves the same
// discovery document and key set shape as https://token.actions.githubusercontent.com, and
// the job-side endpoint that ACTIONS_ID_TOKEN_REQUEST_URL names: GET /token?audience=… with
// "Authorization: Bearer <request token>" answers {"value": "<RS256 JWT>"} carrying GitHub's
// claims for one repository. Loopback only; never use it for anything else.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	repo := flag.String("repository", "acme/weather", "the repository claim (owner/name)")
	requestToken := flag.String("request-token", os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), "the bearer token /token requires")
	flag.Parse()
	if *requestToken == "" {
		log.Fatal("give -request-token (or ACTIONS_ID_TOKEN_REQUEST_TOKEN)")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	issuer := "http://" + *addr
	jwk := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "fake-github-1", Algorithm: "RS256", Use: "sig"}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: jwk.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		log.Fatal(err)
	}
	owner, _, _ := strings.Cut(*repo, "/")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks",
			"subject_types_supported": []string{"public"}, "response_types_supported": []string{"id_token"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "claims_supported": []string{"sub", "aud", "repository", "repository_owner", "ref", "workflow_ref"}})
	})
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+*requestToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		aud := r.URL.Query().Get("audience")
		if aud == "" {
			http.Error(w, "audience is required", http.StatusBadRequest)
			return
		}
		now := time.Now()
		std := jwt.Claims{Issuer: issuer, Subject: "repo:" + *repo + ":ref:refs/heads/main", Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}
		gh := map[string]any{"repository": *repo, "repository_owner": owner, "ref": "refs/heads/main",
			"workflow_ref": *repo + "/.github/workflows/release.yml@refs/heads/main", "runner_environment": "github-hosted", "event_name": "push"}
		tok, err := jwt.Signed(signer).Claims(std).Claims(gh).Serialize()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]string{"value": tok})
	})
	fmt.Println("fake GitHub OIDC issuer at", issuer)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
