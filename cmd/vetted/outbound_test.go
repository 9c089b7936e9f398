package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vetted-dev/vetted/internal/netguard"
)

// The OSV download goes through the guarded transport: a mirror at the metadata endpoint,
// or one that redirects to a private address, is refused before any connection.
func TestOSVSyncOutboundGuard(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		to := "https://10.0.0.1/osv"
		if r.URL.Query().Has("plain") {
			to = "http://osv.example.com/osv"
		}
		http.Redirect(w, r, to+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	tests := []struct {
		name, from, want string
	}{
		{"metadata endpoint", "http://169.254.169.254/osv", "cloud metadata endpoint"},
		{"redirect to a private address", srv.URL, "private address"},
		// Only the mirror named on the command line may be spoken to at its own port and
		// scheme; a redirect elsewhere gets HTTPS on 443 or nothing.
		{"redirect to plain HTTP elsewhere", srv.URL + "/?plain=1", "port 80 not on the allowlist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"osv", "sync", "--db", t.TempDir(), "--from", tc.from, "--ecosystem", "Go"},
				&env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
			if err == nil || !strings.Contains(err.Error()+errb.String(), tc.want) {
				t.Fatalf("want a refusal mentioning %q, got %v\n%s", tc.want, err, errb.String())
			}
		})
	}
	if hits.Load() == 0 {
		t.Fatal("the loopback mirror named on the command line was not reached")
	}
}

func TestTargetHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://osv.example.com/x": "osv.example.com",
		"http://127.0.0.1:8080/":    "127.0.0.1",
		"ghcr.io/acme/weather:1.0":  "ghcr.io",
		"localhost:5000/acme/x":     "localhost",
		"[::1]:5000/acme/x":         "::1",
		"http://[fd00:ec2::254]/":   "fd00:ec2::254",
	} {
		if got := targetHost(in); got != want {
			t.Errorf("targetHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// vetted verify fetches through the guard too: an image on the metadata endpoint or on a
// private address is refused before any connection.
func TestVerifyOutboundGuard(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	os.WriteFile(filepath.Join(dir, "k.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
	pol := filepath.Join(dir, "policy.yaml")
	os.WriteFile(pol, []byte("authorities:\n  - name: k\n    key: {path: k.pub}\nrequire: {signature: true}\n"), 0o600)
	for ref, want := range map[string]string{
		"169.254.169.254/acme/weather:v1": "cloud metadata endpoint",
		"10.0.0.1:5000/acme/weather:v1":   "private address",
		"[fd00:ec2::254]/acme/weather:v1": "cloud metadata endpoint",
		"100.100.100.200/acme/weather:v1": "cloud metadata endpoint",
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"verify", ref, "--policy", pol}, &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
		if err == nil || !strings.Contains(err.Error()+out.String()+errb.String(), want) {
			t.Errorf("%s: want a refusal mentioning %q, got %v\n%s%s", ref, want, err, out.String(), errb.String())
		}
	}
}

// A refusal of the outbound guard says which setting allows the destination: in the server
// log (attribute fix) and in the CLI's error, whose exit code is kept.
func TestOutboundRefusalNamesTheSetting(t *testing.T) {
	var logs bytes.Buffer
	g, err := outboundConfig{AllowHosts: []string{"registry.example.com"}}.guard(slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.Client().Get("http://127.0.0.1:1/v2/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("loopback fetched")
	}
	if !strings.Contains(logs.String(), "outbound.allow_networks") || !strings.Contains(logs.String(), "outbound.allow_hosts") {
		t.Fatalf("the refusal's log line names no setting:\n%s", logs.String())
	}

	var be *netguard.BlockedError
	wrapped := withOutboundFix(checkFailed(fmt.Errorf("fetch: %w", &netguard.BlockedError{Host: "10.0.0.5", Reason: "private address"})))
	if !errors.As(wrapped, &be) || ExitCode(wrapped) != exitCheckFailed || !strings.Contains(wrapped.Error(), "outbound.allow_networks") {
		t.Fatalf("CLI error: %v (exit %d)", wrapped, ExitCode(wrapped))
	}
	if err := withOutboundFix(usageErrorf("x")); strings.Contains(err.Error(), "outbound") {
		t.Fatalf("unrelated error changed: %v", err)
	}
}
