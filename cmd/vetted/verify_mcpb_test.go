package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/sigtest"
)

func TestVerifyMCPBCommand(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("manifest.json")
	w.Write([]byte(`{"manifest_version":"0.2","name":"weather","version":"1.0.0","server":{"type":"node","entry_point":"index.js"},"tools":[{"name":"forecast"}]}`))
	zw.Close()
	data := buf.Bytes()
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(data) }))
	defer srv.Close()

	dir := t.TempDir()
	key, other := sigtest.NewKey(t), sigtest.NewKey(t)
	pol := filepath.Join(dir, "policy.yaml")
	pem := "        " + strings.ReplaceAll(strings.TrimSpace(key.PublicPEM(t)), "\n", "\n        ")
	os.WriteFile(pol, []byte("authorities:\n  - name: publisher\n    key:\n      pem: |\n"+pem+"\nrequire: {signature: true}\n"), 0o600)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	file := write("weather.mcpb", data)
	sig := write("sig.bundle", sigtest.Marshal(t, key.MessageBundle(t, data)))
	foreign := write("foreign.bundle", sigtest.Marshal(t, other.MessageBundle(t, data)))
	url := "mcpb:" + srv.URL + "/weather.mcpb"
	for _, c := range []struct {
		name     string
		args     []string
		code     int
		combined string
	}{
		{"offline", []string{url, "--sha256", hexSum, "--artifact", file, "--evidence", sig, "--policy", pol}, 0, "manifest weather 1.0.0, tools: forecast"},
		{"downloaded", []string{url, "--sha256", hexSum, "--evidence", sig, "--policy", pol}, 0, "verified signature"},
		{"foreign signature", []string{url, "--sha256", hexSum, "--evidence", foreign, "--policy", pol}, 1, "failed: signature"},
		{"no signature", []string{url, "--sha256", hexSum, "--policy", pol}, 1, "require.signature"},
		{"declared digest differs", []string{url, "--sha256", strings.Repeat("0", 64), "--evidence", sig, "--policy", pol}, 1, "integrity"},
		{"no sha256", []string{url, "--evidence", sig, "--policy", pol}, 2, "--sha256 HEX"},
		{"bad sha256", []string{url, "--sha256", "XYZ", "--policy", pol}, 2, "64 lower-case hex"},
		{"plain http elsewhere", []string{"mcpb:http://example.com/w.mcpb", "--sha256", hexSum, "--policy", pol}, 2, "plain http"},
		{"sha256 on an image", []string{"ghcr.io/acme/x:1", "--sha256", hexSum, "--policy", pol}, 2, "are for npm"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, combined := runVerify(t, c.args...)
			if code != c.code || !strings.Contains(out+combined, c.combined) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, out, combined)
			}
		})
	}
}
