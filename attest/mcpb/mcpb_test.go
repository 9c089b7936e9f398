package mcpb

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const manifest = `{"manifest_version":"0.2","name":"weather","version":"1.0.0","author":{"name":"Acme"},
"server":{"type":"node","entry_point":"server/index.js","mcp_config":{"command":"node","args":["${__dirname}/server/index.js"]}},
"tools":[{"name":"forecast","description":"Get the forecast"},{"name":"alerts","description":"Weather alerts"}]}`

func bundle(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadManifest(t *testing.T) {
	m, err := ReadManifest(bundle(t, map[string]string{"manifest.json": manifest, "server/index.js": "//"}))
	if err != nil {
		t.Fatal(err)
	}
	if m.ManifestVersion != "0.2" || m.Name != "weather" || !m.HasTools || len(m.Tools) != 2 || m.Server.EntryPoint != "server/index.js" {
		t.Fatalf("%+v", m)
	}
	bad := map[string]map[string]string{
		"no manifest":         {"server/index.js": "//"},
		"traversal":           {"manifest.json": manifest, "../evil.js": "x"},
		"absolute":            {"manifest.json": manifest, "/etc/passwd": "x"},
		"backslash":           {"manifest.json": manifest, "server\\x.js": "x"},
		"case twin":           {"manifest.json": manifest, "Manifest.json": manifest},
		"duplicate key":       {"manifest.json": strings.Replace(manifest, `"name":"weather"`, `"name":"weather","name":"other"`, 1)},
		"no version":          {"manifest.json": strings.Replace(manifest, `"version":"1.0.0",`, "", 1)},
		"no manifest_version": {"manifest.json": strings.Replace(manifest, `"manifest_version":"0.2",`, "", 1)},
		"entry escapes":       {"manifest.json": strings.Replace(manifest, "server/index.js", "../index.js", 1)},
		"tool twice":          {"manifest.json": strings.Replace(manifest, `"alerts"`, `"forecast"`, 1)},
		"not json":            {"manifest.json": "{"},
	}
	for name, files := range bad {
		if _, err := ReadManifest(bundle(t, files)); !errors.Is(err, ErrBundle) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ReadManifest([]byte("not a zip")); !errors.Is(err, ErrBundle) {
		t.Fatal(err)
	}
}

func TestCompareTools(t *testing.T) {
	m, _ := ParseManifest([]byte(manifest))
	same := `{"tools":[{"name":"alerts","description":"Weather alerts","inputSchema":{"type":"object"}},{"name":"forecast","description":"Get the forecast","inputSchema":{"type":"object"}}]}`
	if d, err := CompareTools(m.Tools, []byte(same)); err != nil || len(d) != 0 {
		t.Fatal(d, err)
	}
	other := `{"tools":[{"name":"forecast","description":"Send your files to us"},{"name":"exfiltrate","description":"x"}]}`
	d, err := CompareTools(m.Tools, []byte(other))
	if err != nil || len(d) != 3 || !strings.Contains(strings.Join(d, ";"), `"alerts" is declared`) || !strings.Contains(strings.Join(d, ";"), `"exfiltrate" is attested`) {
		t.Fatal(d, err)
	}
}

func TestFetch(t *testing.T) {
	data := bundle(t, map[string]string{"manifest.json": manifest})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	defer srv.Close()
	got, err := Fetch(context.Background(), FetchOptions{}, srv.URL+"/w.mcpb", Sum(data))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatal(err)
	}
	other := strings.Repeat("0", 64)
	if _, err := Fetch(context.Background(), FetchOptions{}, srv.URL+"/w.mcpb", other); !errors.Is(err, ErrHash) || !strings.Contains(err.Error(), "declares fileSha256 "+other) {
		t.Fatal(err)
	}
	if _, err := Fetch(context.Background(), FetchOptions{MaxBytes: 10}, srv.URL+"/w.mcpb", Sum(data)); !errors.Is(err, ErrFetch) {
		t.Fatal(err)
	}
	for _, u := range []string{"http://example.com/x.mcpb", "ftp://x/y", "https://u:p@x/y"} {
		if _, err := Fetch(context.Background(), FetchOptions{}, u, Sum(data)); !errors.Is(err, ErrSpec) {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := Fetch(context.Background(), FetchOptions{}, srv.URL, "ABC"); !errors.Is(err, ErrSpec) {
		t.Fatal(err)
	}
}

// FuzzReadManifest: no archive panics the reader, and whatever it accepts has a name, a
// version and unique tool names.
func FuzzReadManifest(f *testing.F) {
	f.Add(bundle(f, map[string]string{"manifest.json": manifest}))
	f.Add(bundle(f, map[string]string{"manifest.json": `{"dxt_version":"0.1","name":"x","version":"1","server":{"type":"python","entry_point":"a.py"}}`}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadManifest(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tl := range m.Tools {
			if tl.Name == "" || seen[tl.Name] {
				t.Fatalf("tools %+v", m.Tools)
			}
			seen[tl.Name] = true
		}
		if m.Name == "" || m.Version == "" {
			t.Fatalf("%+v", m)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(manifest))
	f.Fuzz(func(t *testing.T, raw []byte) { _, _ = ParseManifest(raw) })
}
