package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/registry/sqlite"
)

func corsFromYAML(t *testing.T, yml string) ([]api.Option, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vetted.yaml")
	if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := loadConfigFile(p, true)
	if err != nil {
		t.Fatal(err)
	}
	return serveCORS(&serveConfig{File: f})
}

func TestServeCORSSection(t *testing.T) {
	opts, err := corsFromYAML(t, "cors:\n  allowed_origins: [https://catalog.example]\n  credentialed_origins: [https://console.example]\n")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	s, err := api.New(st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodOptions, "/v0.1/publish", nil)
	r.Header.Set("Origin", "https://console.example")
	r.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "https://console.example" {
		t.Errorf("configured credentialed origin: %d %v", w.Code, w.Header())
	}

	for yml, want := range map[string]string{
		"cors:\n  credentialed_origins: ['*']\n": `"*" is not allowed`,
		"cors:\n  allowed_origin: ['*']\n":       `unknown field "allowed_origin"`,
	} {
		_, err := corsFromYAML(t, yml)
		if err == nil || !strings.Contains(err.Error(), want) || ExitCode(err) != 2 {
			t.Errorf("%q: err %v (exit %d), want %q and exit 2", yml, err, ExitCode(err), want)
		}
	}
}
