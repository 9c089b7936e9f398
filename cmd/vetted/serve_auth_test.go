package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/api/auth"
)

func request(t *testing.T, c *http.Client, method, url, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func issueToken(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"token", "issue"}, args...), &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("token issue: %v %s", err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// vetted serve with its embedded issuer: metadata, JWKS, anonymous read, tokens from
// `vetted token issue` for this registry only, 401 with the challenge otherwise.
func TestServeAuth(t *testing.T) {
	dir := t.TempDir()
	addr, _ := startServe(t, nil, "--data-dir", dir)
	base := "http://" + addr
	c := http.DefaultClient

	resp, body := request(t, c, "GET", base+auth.MetadataPath, "")
	var md auth.ResourceMetadata
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &md) != nil || md.Resource != base || len(md.AuthorizationServers) != 1 || md.AuthorizationServers[0] != base {
		t.Fatalf("metadata %d %s", resp.StatusCode, body)
	}
	resp, body = request(t, c, "GET", base+auth.JWKSPath, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"EdDSA"`) || strings.Contains(body, `"d"`) {
		t.Fatalf("jwks %d %s", resp.StatusCode, body)
	}
	if fi, err := os.Stat(filepath.Join(dir, auth.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("issuer key: %v %v", fi, err)
	}
	if resp, _ := request(t, c, "GET", base+"/v0.1/servers", ""); resp.StatusCode != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("anonymous read: %d %v", resp.StatusCode, resp.Header)
	}
	reader := issueToken(t, "--role", "reader", "--data-dir", dir, "--audience", base, "--issuer", base)
	if resp, body := request(t, c, "GET", base+"/v0.1/servers", reader); resp.StatusCode != 200 {
		t.Fatalf("reader: %d %s", resp.StatusCode, body)
	}
	other := issueToken(t, "--role", "reader", "--data-dir", dir, "--audience", "https://other.example.com", "--issuer", base)
	resp, body = request(t, c, "GET", base+"/v0.1/servers", other)
	if resp.StatusCode != 401 || !strings.Contains(body, `"reason":"wrong audience"`) ||
		resp.Header.Get("WWW-Authenticate") == "" || !strings.Contains(resp.Header.Get("WWW-Authenticate"), base+auth.MetadataPath) {
		t.Fatalf("token for another audience: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = request(t, c, "GET", base+"/docs", "")
	if resp.StatusCode != 200 || resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("/docs headers: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestServeAnonymousReadOff(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte("auth:\n  anonymous_read: false\n"), 0o600)
	addr, _ := startServe(t, nil, "--data-dir", dir, "--config", cfg)
	base := "http://" + addr
	resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/servers", "")
	if resp.StatusCode != 401 || !strings.Contains(body, `"permission":"read"`) {
		t.Fatalf("anonymous read with the switch off: %d %s", resp.StatusCode, body)
	}
	if resp, body := request(t, http.DefaultClient, "GET", base+"/healthz", ""); resp.StatusCode != 200 {
		t.Fatalf("health stays public: %d %s", resp.StatusCode, body)
	}
	tok := issueToken(t, "--role", "reader", "--data-dir", dir, "--audience", base, "--issuer", base)
	if resp, body := request(t, http.DefaultClient, "GET", base+"/v0.1/servers", tok); resp.StatusCode != 200 {
		t.Fatalf("reader: %d %s", resp.StatusCode, body)
	}
}

func TestServeTLSAndPlainHTTPPolicy(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	addr, _ := startServe(t, nil, "--data-dir", dir, "--tls-cert", certFile, "--tls-key", keyFile)
	base := "https://" + addr
	c12 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}}}
	resp, body := request(t, c12, "GET", base+"/v0.1/servers", "")
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("TLS 1.2: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	_, body = request(t, c12, "GET", base+auth.MetadataPath, "")
	if !strings.Contains(body, `"resource":"`+base+`"`) {
		t.Fatalf("metadata over TLS: %s", body)
	}
	c11 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if _, err := c11.Get(base + "/v0.1/servers"); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"cert without key", []string{"--tls-cert", certFile}, "--tls-cert and --tls-key go together"},
		{"bad key pair", []string{"--tls-cert", certFile, "--tls-key", certFile}, "--tls-cert/--tls-key"},
		{"plain HTTP on all interfaces", []string{"--addr", "0.0.0.0:0"}, "refusing to serve plain HTTP"},
		{"plain HTTP on an empty host", []string{"--addr", ":0"}, "refusing to serve plain HTTP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"}, tc.args...)
			err := run(context.Background(), args, &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
			if ExitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want exit 2 mentioning %q, got %d %v", tc.want, ExitCode(err), err)
			}
		})
	}
}

func TestServeAuthConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"typo", "auth:\n  anonymous_reed: false\n", "unknown field"},
		{"rule without claims", "auth:\n  issuers: [{issuer: https://idp.example.com}]\n  publishers: [{namespace: io.github.acme/*, issuer: https://idp.example.com}]\n", "claim condition"},
		{"http issuer", "auth:\n  issuers: [{issuer: http://idp.example.com}]\n", "https URL"},
		{"bad outbound network", "outbound:\n  allow_networks: [nope]\n", "allow_networks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "vetted.yaml")
			os.WriteFile(cfg, []byte(tc.yaml), 0o600)
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--config", cfg}, &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
			if ExitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want exit 2 mentioning %q, got %d %v", tc.want, ExitCode(err), err)
			}
		})
	}
}

func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "vetted test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile, pool
}

// An oversized publish body is refused with 413 before anything reads it.
func TestServePublishBodyLimit(t *testing.T) {
	dir := t.TempDir()
	addr, _ := startServe(t, nil, "--data-dir", dir)
	base := "http://" + addr
	tok := issueToken(t, "--role", "publisher", "--namespace", "io.github.acme/*", "--data-dir", dir, "--audience", base, "--issuer", base)
	req, _ := http.NewRequest("POST", base+"/v0.1/publish", strings.NewReader(`{"name":"io.github.acme/x","pad":"`+strings.Repeat("a", 300<<10)+`"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), "request body too large") {
		t.Fatalf("oversized publish: %d %s", resp.StatusCode, b)
	}
}
