package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/internal/testenv"
)

// TestFetchAndResolveNPM serves a version the way a Vetted registry serves a published npm
// package (server.json by exact version, _meta with integrity, sha256 and tarball URL) and
// the tarball beside it; fetch writes the tarball only while it matches.
func TestFetchAndResolveNPM(t *testing.T) {
	tgz, err := os.ReadFile(testenv.SharedTestdata(t, "npm", "gundam-visor-cli-v1-tag.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	d := npm.Sum(tgz)
	served := tgz
	mux := http.NewServeMux()
	mux.HandleFunc("GET /t.tgz", func(w http.ResponseWriter, _ *http.Request) { w.Write(served) })
	mux.HandleFunc("GET /v0.1/servers/{name}/versions/{version}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"server":{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/gundam","description":"G","version":"1.0.1","packages":[{"registryType":"npm","identifier":"gundam-visor","version":"1.0.1","transport":{"type":"stdio"}}]},
"_meta":{"dev.vetted/verification":{"packages":[{"index":0,"identifier":"gundam-visor","digest":"sha256:%s","pinned":"gundam-visor@1.0.1"}],
"npm":[{"index":0,"package":"packages[0] gundam-visor","name":"gundam-visor","version":"1.0.1","integrity":%q,"sha256":"sha256:%s","tarballUrl":"http://%s/t.tgz","sbomSource":"attestation"}]}}}`,
			d.SHA256, npm.Integrity(d.SHA512), d.SHA256, r.Host)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "pkg.tgz")
	run := func(args ...string) (int, string, string) {
		var o, e bytes.Buffer
		err := run(context.Background(), args, &env{stdout: &o, stderr: &e, getenv: func(string) string { return "" }})
		return ExitCode(err), o.String(), e.String() + errString(err)
	}

	code, stdout, stderr := run("resolve", "io.github.acme/gundam@1.0.1", "--registry", srv.URL)
	if code != 0 || !strings.Contains(stdout, "npx -y gundam-visor@1.0.1") || !strings.Contains(stdout, npm.Integrity(d.SHA512)) {
		t.Fatalf("resolve: %d %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = run("fetch", "npm", "io.github.acme/gundam@1.0.1", "--registry", srv.URL, "-o", out)
	if got, _ := os.ReadFile(out); code != 0 || string(got) != string(tgz) {
		t.Fatalf("fetch: %d %s %s", code, stdout, stderr)
	}
	os.Remove(out)
	served = append(append([]byte{}, tgz...), 0)
	code, _, stderr = run("fetch", "npm", "io.github.acme/gundam@1.0.1", "--registry", srv.URL, "-o", out)
	if _, err := os.Stat(out); code != 1 || !strings.Contains(stderr, "refused") || !strings.Contains(stderr, "integrity") || !os.IsNotExist(err) {
		t.Fatalf("tampered tarball: %d %s (file: %v)", code, stderr, err)
	}
	for _, c := range []struct {
		args []string
		why  string
	}{
		{[]string{"fetch", "cargo", "io.github.acme/gundam@1.0.1", "--registry", srv.URL, "-o", out}, "only npm, pypi and mcpb"},
		{[]string{"fetch", "npm", "io.github.acme/gundam@1.0.1", "--registry", srv.URL}, "-o FILE is required"},
		{[]string{"fetch", "npm", "gundam@1.0.1", "--registry", srv.URL, "-o", out}, "not NAME@VERSION of a server"},
	} {
		if code, _, stderr := run(c.args...); code != 2 || !strings.Contains(stderr, c.why) {
			t.Errorf("%v: %d %s", c.args, code, stderr)
		}
	}
}
