package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// With a configured origin (the registry's public URL), the Origin header must match its
// scheme and host; default ports are the same origin.
func TestCheckRequestOriginConfigured(t *testing.T) {
	h := &Handler{cfg: Config{Origin: "https://Vetted.example.com:443"}}
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://vetted.example.com", true},
		{"https://vetted.example.com:443", true},
		{"http://vetted.example.com", false},
		{"http://vetted.example.com:443", false},
		{"https://vetted.example.com:8443", false},
		{"https://vetted.example.com.evil", false},
		{"null", false},
		{"", true}, // no Origin: the CSRF token decides
	} {
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080/ui/x", nil) // behind a TLS-terminating proxy
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		err := h.checkRequestOrigin(r)
		if (err == nil) != tc.ok {
			t.Errorf("Origin %q: %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "https://vetted.example.com") {
			t.Errorf("Origin %q: refusal %q does not name the expected origin", tc.origin, err)
		}
	}
	if _, err := New(Config{Origin: "ftp://x"}); err == nil {
		t.Error("a bad origin was accepted")
	}
}
