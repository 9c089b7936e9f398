package pin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
)

const manifest = `{"tools":[{"name":"add","description":"Add two numbers.","inputSchema":{"type":"object"}}]}`

func registry(t *testing.T, etag func(digest string) string, status int) (*httptest.Server, *string) {
	t.Helper()
	m, err := toolmanifest.Parse([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		if status != http.StatusOK {
			http.Error(w, "nope", status)
			return
		}
		if tag := etag(m.Digest); tag != "" {
			w.Header().Set("ETag", tag)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(manifest))
	}))
	t.Cleanup(srv.Close)
	return srv, &gotPath
}

func TestFetch(t *testing.T) {
	srv, path := registry(t, func(d string) string { return `"` + d + `"` }, http.StatusOK)
	m, err := Fetch(context.Background(), srv.Client(), srv.URL, "io.github.acme/weather", "1.2.0", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Tool("add") == nil {
		t.Fatal("tool missing")
	}
	if want := "/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/1.2.0/tools"; *path != want {
		t.Errorf("path %s, want %s", *path, want)
	}
}

func TestFetchRejects(t *testing.T) {
	cases := []struct {
		name   string
		etag   func(string) string
		status int
		want   error
		msg    string
	}{
		{"wrong etag", func(string) string { return `"sha256:0000"` }, 200, ErrDigestMismatch, "hashes to sha256:"},
		{"no etag", func(string) string { return "" }, 200, ErrDigestMismatch, "no ETag"},
		{"not found", func(d string) string { return d }, 404, ErrNotFound, "404"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := registry(t, c.etag, c.status)
			_, err := Fetch(context.Background(), srv.Client(), srv.URL, "a/b", "1", "")
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %v mentioning %q", err, c.want, c.msg)
			}
		})
	}
	srv, _ := registry(t, func(d string) string { return d }, 500)
	if _, err := Fetch(context.Background(), srv.Client(), srv.URL, "a/b", "1", ""); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("want 500 error, got %v", err)
	}
	if _, err := Fetch(context.Background(), nil, "ftp://x", "a/b", "1", ""); err == nil || !strings.Contains(err.Error(), "want an http(s) URL") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadAndSplit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tools.json")
	if err := os.WriteFile(p, []byte(`{"tools":[{"name":"a","name":"b"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); !errors.Is(err, toolmanifest.ErrInvalid) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
	n, v, err := SplitNameVersion("io.github.x/y@1.0.0")
	if err != nil || n != "io.github.x/y" || v != "1.0.0" {
		t.Fatalf("got %q %q %v", n, v, err)
	}
	for _, bad := range []string{"x", "x@", "@1"} {
		if _, _, err := SplitNameVersion(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
