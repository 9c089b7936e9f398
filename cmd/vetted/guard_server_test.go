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
		"127.0.0.1/acme/weather:v1":        "loopback",
		"loop.example.com/acme/weather:v1": "loopback",
		// An allowed host is allowed on 443 only (issue 17 item 6): another port is refused
		// before the address is even looked at.
		"127.0.0.1:" + port + "/acme/weather:v1":        "port " + port + " not on the allowlist",
		"loop.example.com:" + port + "/acme/weather:v1": "port " + port + " not on the allowlist",
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

// What a publisher learns of a package identifier on an allowed host and port is the same
// whether the port is closed, answers something other than HTTP, or fails the TLS
// handshake: "registry unreachable" (issue 17 item 6: no port-scan oracle).
func TestServerGuardUnreachableIsUniform(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close()
	oc := outboundConfig{AllowHosts: []string{"127.0.0.1:" + port}, AllowNetworks: []string{"127.0.0.1/32"}, Timeout: "10s"}
	g, err := oc.guard(nil)
	if err != nil {
		t.Fatal(err)
	}
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
	ref := "127.0.0.1:" + port + "/acme/weather:v1"
	verify := func() string {
		_, err := attest.Verify(context.Background(), ref, pol, attest.WithTransport(g.RoundTripper()))
		if err == nil {
			t.Fatal("verified against a dead registry")
		}
		return err.Error()
	}
	closed := verify()
	if !strings.Contains(closed, "registry unreachable") {
		t.Fatalf("closed port: %s", closed)
	}
	raw := func(h func(net.Conn)) func() {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go h(c)
			}
		}()
		return func() { l.Close() }
	}
	stop := raw(func(c net.Conn) { c.Close() })
	eof := verify()
	stop()
	stop = raw(func(c net.Conn) { c.Write([]byte("-ERR unknown command 'GET'\r\n")); c.Close() })
	garbage := verify()
	stop()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Listener.Close()
	tlsSrv.Listener = l
	tlsSrv.StartTLS()
	handshake := verify()
	tlsSrv.Close()
	for name, got := range map[string]string{"EOF": eof, "non-HTTP": garbage, "TLS handshake": handshake} {
		if got != closed {
			t.Errorf("%s reads differently from a closed port:\n  %s\n  %s", name, got, closed)
		}
	}
}
