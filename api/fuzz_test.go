package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(keyOf("io.github.acme/weather", "1.0.0")))
	f.Add("")
	f.Add("djEAYQBi")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := decodeCursor(s)
		if err != nil {
			if strings.Contains(err.Error(), s) && len(s) > 8 {
				t.Fatalf("error echoes the input: %v", err)
			}
			return
		}
		if validateName(k.Name) != nil || validateVersion(k.Version) != nil {
			t.Fatalf("accepted invalid key %+v", k)
		}
		if got, err := decodeCursor(encodeCursor(k)); err != nil || got != k {
			t.Fatalf("round trip %+v: %+v, %v", k, got, err)
		}
	})
}

// FuzzRequest sends arbitrary paths, queries and If-None-Match headers: never a 5xx, never a
// panic, always a problem document on errors.
func FuzzRequest(f *testing.F) {
	st := newMemStore()
	seed(f, st, "io.github.acme/weather@1.0.0", "io.github.acme/weather@1.1.0", "com.example/x@nightly")
	h := newServer(f, st)
	for _, s := range []string{
		"/v0.1/servers?limit=100", "/v0.1/servers?cursor=djEAYQBi&limit=1",
		"/v0.1/servers/io.github.acme%2Fweather/versions/latest", "/v0/servers/io.github.acme%2Fweather/versions",
		"/v0.1/servers?updated_since=2025-01-01T00:00:00Z&search=ac&version=latest",
		"/v0.1/servers/%zz/versions/1", "/v0.1/servers?limit=-1", "/v0.1/servers/../x",
	} {
		f.Add(s, `"x"`)
	}
	f.Fuzz(func(t *testing.T, target, inm string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		r, err := http.NewRequest(http.MethodGet, "http://vetted.test"+target, nil)
		if err != nil {
			return // not a request a server could receive
		}
		r.Header.Set("If-None-Match", inm)
		for i := 0; i < 2; i++ { // miss, then possibly the fast path
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("GET %q = %d %s", target, w.Code, w.Body.String())
			}
			if w.Code >= 400 && w.Code != 405 && !strings.Contains(w.Header().Get("Content-Type"), "problem+json") {
				t.Fatalf("GET %q = %d with Content-Type %q", target, w.Code, w.Header().Get("Content-Type"))
			}
		}
	})
}
