package trustroot

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPublicGood(t *testing.T) {
	tr, err := PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 || len(tr.RekorLogs()) == 0 || len(tr.CTLogs()) == 0 || len(tr.TimestampingAuthorities()) == 0 {
		t.Errorf("public-good root lacks material: %d CAs, %d logs, %d CT logs, %d TSAs",
			len(tr.FulcioCertificateAuthorities()), len(tr.RekorLogs()), len(tr.CTLogs()), len(tr.TimestampingAuthorities()))
	}
	for _, l := range tr.RekorLogs() {
		if l.BaseURL != "https://rekor.sigstore.dev" {
			t.Errorf("unexpected Rekor log %s", l.BaseURL)
		}
	}
	// A copy, not the embedded slice.
	b := PublicGoodJSON()
	b[0] = 'x'
	if PublicGoodJSON()[0] == 'x' {
		t.Error("PublicGoodJSON exposes the embedded bytes")
	}
}

func TestFromFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "root.json")
	if err := os.WriteFile(good, PublicGoodJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FromFile(good); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"mediaType":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{bad, filepath.Join(dir, "missing.json")} {
		if _, err := FromFile(f); err == nil || !strings.Contains(err.Error(), "trusted root") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

type refuse struct{}

func (refuse) RoundTrip(*http.Request) (*http.Response, error) { return nil, errors.New("offline") }

// TestFetchPublicGoodFailsClosed: without a transport, or offline, a refresh is an error (the
// caller keeps the shipped root); it never falls back silently.
func TestFetchPublicGoodFailsClosed(t *testing.T) {
	if _, err := FetchPublicGood(FetchOptions{}); err == nil || !strings.Contains(err.Error(), "transport is required") {
		t.Errorf("no transport: %v", err)
	}
	if _, err := FetchPublicGood(FetchOptions{Transport: refuse{}, CacheDir: t.TempDir()}); err == nil {
		t.Error("offline refresh succeeded")
	}
}
