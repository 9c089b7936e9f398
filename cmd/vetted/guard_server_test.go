package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/internal/netguard"
)

type fixedResolver map[string]string

func (r fixedResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// The server's guard (the outbound section; nothing allowed implicitly) refuses package
// identifiers that point at loopback, private or metadata addresses — also through a name —
// and hosts off the allowlist, before any connection.
func TestServerGuardRefusesPackageIdentifiers(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port := u.Port()

	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	os.WriteFile(filepath.Join(dir, "k.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
	polFile := filepath.Join(dir, "policy.yaml")
	os.WriteFile(polFile, []byte("authorities:\n  - name: k\n    key: {path: k.pub}\nrequire: {signature: true}\n"), 0o600)
	pol, err := attest.ParsePolicyFile(polFile)
	if err != nil {
		t.Fatal(err)
	}

	oc := outboundConfig{AllowHosts: []string{"registry.example.com", "loop.example.com", "127.0.0.1", "169.254.169.254"}}
	g, err := oc.guard(nil, netguard.WithResolver(fixedResolver{"registry.example.com": "10.0.0.3", "loop.example.com": "127.0.0.1"}))
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"127.0.0.1:" + port + "/acme/weather:v1":        "loopback",
		"loop.example.com:" + port + "/acme/weather:v1": "loopback",
		"registry.example.com/acme/weather:v1":          "private",
		"169.254.169.254/acme/weather:v1":               "metadata",
		"ghcr.io/acme/weather:v1":                       "host not on the allowlist",
	} {
		_, err := attest.Verify(context.Background(), ref, pol, attest.WithTransport(g.RoundTripper()))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want a refusal mentioning %q, got %v", ref, want, err)
		}
		if err != nil && !errors.Is(err, netguard.ErrBlocked) && !strings.Contains(err.Error(), "netguard") {
			t.Errorf("%s: refusal does not come from the guard: %v", ref, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("a refused package identifier reached the server %d times", hits.Load())
	}
}
