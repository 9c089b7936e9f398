package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func corsDo(t *testing.T, h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestCORSDefaultOpensAnonymousReadsOnly(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0")
	s := newServer(t, st)
	const origin = "https://catalog.example"

	for _, p := range []string{"/v0.1/servers", "/v0/servers/io.github.acme%2Fweather/versions/latest", "/healthz"} {
		w := corsDo(t, s, http.MethodGet, p, "Origin", origin)
		if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s: %d, Allow-Origin %q; want 200 and *", p, w.Code, w.Header().Get("Access-Control-Allow-Origin"))
		}
		if w.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("GET %s: credentials allowed", p)
		}
	}
	// Same-origin requests get no CORS headers.
	if w := corsDo(t, s, http.MethodGet, "/v0.1/servers"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("no Origin: Allow-Origin %q", w.Header().Get("Access-Control-Allow-Origin"))
	}

	// Preflight of a read: answered 204 with the methods and the asked-for headers.
	w := corsDo(t, s, http.MethodOptions, "/v0.1/servers/io.github.acme%2Fweather/versions",
		"Origin", origin, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "If-None-Match")
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "*" ||
		w.Header().Get("Access-Control-Allow-Methods") != "GET, HEAD" ||
		w.Header().Get("Access-Control-Allow-Headers") != "If-None-Match" ||
		w.Header().Get("Access-Control-Max-Age") != "86400" {
		t.Errorf("read preflight: %d %v", w.Code, w.Header())
	}

	// Preflight of a publish: refused, naming why, without Allow-Origin.
	w = corsDo(t, s, http.MethodOptions, "/v0.1/publish",
		"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" ||
		!strings.Contains(w.Body.String(), "cross-origin POST /v0.1/publish") ||
		!strings.Contains(w.Body.String(), "cors.credentialed_origins") {
		t.Errorf("publish preflight: %d %v %s", w.Code, w.Header(), w.Body)
	}
	// A read preflight that announces credentials is refused too.
	w = corsDo(t, s, http.MethodOptions, "/v0.1/servers",
		"Origin", origin, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("credentialed read preflight: %d %v", w.Code, w.Header())
	}
	// A GET of an authenticated route (the review queue) is not opened.
	w = corsDo(t, s, http.MethodGet, "/audit", "Origin", origin)
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET /audit: Allow-Origin %q", w.Header().Get("Access-Control-Allow-Origin"))
	}
	// An actual request with credentials gets no CORS headers.
	w = corsDo(t, s, http.MethodGet, "/v0.1/servers", "Origin", origin, "Authorization", "Bearer x")
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("credentialed GET: Allow-Origin %q", w.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSConfigured(t *testing.T) {
	const reader, admin = "https://catalog.example", "https://console.example"
	s := newServer(t, newMemStore(), WithCORS(CORSConfig{AllowedOrigins: []string{reader}, CredentialedOrigins: []string{admin}}))

	w := corsDo(t, s, http.MethodGet, "/v0.1/servers", "Origin", reader)
	if w.Header().Get("Access-Control-Allow-Origin") != reader || !strings.Contains(w.Header().Get("Vary"), "Origin") {
		t.Errorf("listed reader: %v", w.Header())
	}
	w = corsDo(t, s, http.MethodGet, "/v0.1/servers", "Origin", "https://evil.example")
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("unlisted origin: %v", w.Header())
	}
	w = corsDo(t, s, http.MethodOptions, "/v0.1/publish", "Origin", admin,
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != admin ||
		w.Header().Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("credentialed origin preflight: %d %v", w.Code, w.Header())
	}

	for _, c := range []struct {
		cfg  CORSConfig
		want string
	}{
		{CORSConfig{CredentialedOrigins: []string{"*"}}, `credentialed_origins: "*" is not allowed`},
		{CORSConfig{AllowedOrigins: []string{"https://x.example/path"}}, "allowed_origins"},
		{CORSConfig{AllowedOrigins: []string{"ftp://x.example"}}, "want http(s)://host[:port]"},
	} {
		if _, err := New(newMemStore(), WithCORS(c.cfg)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.cfg, err, c.want)
		}
	}
}
