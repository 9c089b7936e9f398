package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFetchAndResolvePyPIAndMCPB serves a version with a PyPI package (two files) and an
// MCP bundle the way Vetted serves them; resolve prints the hash-pinned install lines and
// fetch writes only bytes that match what is served.
func TestFetchAndResolvePyPIAndMCPB(t *testing.T) {
	files := map[string][]byte{"weather_mcp-1.0.0-py3-none-any.whl": []byte("wheel bytes"), "weather_mcp-1.0.0.tar.gz": []byte("sdist bytes"), "w.mcpb": []byte("bundle bytes")}
	served := map[string][]byte{}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	for k, v := range files {
		served[k] = v
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /files/{f}", func(w http.ResponseWriter, r *http.Request) { w.Write(served[r.PathValue("f")]) })
	mux.HandleFunc("GET /v0.1/servers/{name}/versions/{version}", func(w http.ResponseWriter, r *http.Request) {
		whl, sd, mb := sum(files["weather_mcp-1.0.0-py3-none-any.whl"]), sum(files["weather_mcp-1.0.0.tar.gz"]), sum(files["w.mcpb"])
		fmt.Fprintf(w, `{"server":{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"W","version":"1.0.0","packages":[
{"registryType":"pypi","identifier":"weather-mcp","version":"1.0.0","transport":{"type":"stdio"}},
{"registryType":"mcpb","identifier":"http://%[1]s/files/w.mcpb","fileSha256":"%[4]s","transport":{"type":"stdio"}}]},
"_meta":{"dev.vetted/verification":{"packages":[{"index":0,"identifier":"weather-mcp","digest":"sha256:%[2]s","pinned":"weather-mcp==1.0.0"},{"index":1,"identifier":"x","digest":"sha256:%[4]s","pinned":"x"}],
"pypi":[{"index":0,"package":"packages[0] weather-mcp","name":"weather-mcp","version":"1.0.0","indexUrl":"https://pypi.org","files":[
 {"filename":"weather_mcp-1.0.0-py3-none-any.whl","sha256":"sha256:%[2]s","url":"http://%[1]s/files/weather_mcp-1.0.0-py3-none-any.whl"},
 {"filename":"weather_mcp-1.0.0.tar.gz","sha256":"sha256:%[3]s","url":"http://%[1]s/files/weather_mcp-1.0.0.tar.gz"}]}],
"mcpb":[{"index":1,"package":"packages[1] x","url":"http://%[1]s/files/w.mcpb","fileSha256":"%[4]s"}]}}}`, r.Host, whl, sd, mb)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	run := func(args ...string) (int, string, string) {
		var o, e bytes.Buffer
		err := run(context.Background(), args, &env{stdout: &o, stderr: &e, getenv: func(string) string { return "" }})
		return ExitCode(err), o.String(), e.String() + errString(err)
	}
	code, stdout, stderr := run("resolve", "io.github.acme/weather@1.0.0", "--registry", srv.URL)
	whl, sd := sum(files["weather_mcp-1.0.0-py3-none-any.whl"]), sum(files["weather_mcp-1.0.0.tar.gz"])
	if code != 0 || !strings.Contains(stdout, "uvx weather-mcp==1.0.0") ||
		!strings.Contains(stdout, "weather-mcp==1.0.0 --hash=sha256:"+whl+" --hash=sha256:"+sd) ||
		!strings.Contains(stdout, "(fileSha256 "+sum(files["w.mcpb"])+")") {
		t.Fatalf("resolve: %d %s %s", code, stdout, stderr)
	}
	dir := filepath.Join(t.TempDir(), "new") // created once every file matched
	code, stdout, stderr = run("fetch", "pypi", "io.github.acme/weather@1.0.0", "--registry", srv.URL, "-o", dir)
	if got, _ := os.ReadFile(filepath.Join(dir, "weather_mcp-1.0.0.tar.gz")); code != 0 || string(got) != "sdist bytes" {
		t.Fatalf("fetch pypi: %d %s %s", code, stdout, stderr)
	}
	out := filepath.Join(dir, "w.mcpb")
	if code, stdout, stderr = run("fetch", "mcpb", "io.github.acme/weather@1.0.0", "--registry", srv.URL, "-o", out); code != 0 {
		t.Fatalf("fetch mcpb: %d %s %s", code, stdout, stderr)
	}

	// A file replaced at its URL: nothing is written.
	dir2 := t.TempDir()
	served["weather_mcp-1.0.0.tar.gz"] = []byte("other sdist")
	code, _, stderr = run("fetch", "pypi", "io.github.acme/weather@1.0.0", "--registry", srv.URL, "-o", dir2)
	if entries, _ := os.ReadDir(dir2); code != 1 || !strings.Contains(stderr, "refused") || len(entries) != 0 {
		t.Fatalf("replaced sdist: %d %s %d files", code, stderr, len(entries))
	}
	missing := filepath.Join(dir2, "not-created")
	code, _, stderr = run("fetch", "pypi", "io.github.acme/weather@1.0.0", "--registry", srv.URL, "-o", missing)
	if _, err := os.Stat(missing); code != 1 || !strings.Contains(stderr, "refused") || !os.IsNotExist(err) {
		t.Fatalf("replaced sdist, new directory: %d %s %v", code, stderr, err)
	}
	served["w.mcpb"] = []byte("other bundle")
	out2 := filepath.Join(dir2, "w.mcpb")
	code, _, stderr = run("fetch", "mcpb", "io.github.acme/weather@1.0.0", "--registry", srv.URL, "-o", out2)
	if _, err := os.Stat(out2); code != 1 || !strings.Contains(stderr, "refused") || !os.IsNotExist(err) {
		t.Fatalf("replaced bundle: %d %s", code, stderr)
	}
}
