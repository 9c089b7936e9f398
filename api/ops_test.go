package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// The fast path and huma must answer byte for byte alike, headers included.
func TestFastPathMatchesHuma(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0", "io.github.acme/weather@1.1.0", "com.example/x@2")
	fast := newServer(t, st)
	slow := newServer(t, st, withoutFastPath())
	paths := []string{
		"/v0.1/servers", "/v0/servers?limit=1", "/v0.1/servers?search=acme&version=latest",
		"/v0.1/servers/io.github.acme%2Fweather/versions",
		"/v0.1/servers/io.github.acme%2Fweather/versions/latest",
		"/v0/servers/io.github.acme%2Fweather/versions/1.0.0",
		// Decoded exactly once (issue 17 item 9): upstream accepts a doubly encoded slash,
		// Vetted answers 400 on both paths alike.
		"/v0.1/servers/io.github.acme%252Fweather/versions/1.0.0",
		"/v0.1/servers/io.github.acme%25252Fweather/versions/latest",
	}
	for _, p := range paths {
		get(t, fast, p) // fill the cache
		a, b := get(t, fast, p), get(t, slow, p)
		want := 200
		if strings.Contains(p, "%25") {
			want = 400
		}
		if a.code != want || a.code != b.code || a.body != b.body {
			t.Errorf("GET %s: fast %d %q, huma %d %q", p, a.code, a.body, b.code, b.body)
		}
		for _, h := range []string{"Content-Type", "Content-Length", "ETag"} {
			if a.hdr.Get(h) != b.hdr.Get(h) {
				t.Errorf("GET %s: %s fast %q, huma %q", p, h, a.hdr.Get(h), b.hdr.Get(h))
			}
		}
	}
}

func TestEveryOperationDeclaresAPermission(t *testing.T) {
	s := newServer(t, newMemStore())
	n := 0
	for path, item := range s.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			n++
			p, ok := OperationPermission(op)
			if !ok {
				t.Errorf("%s %s declares no permission", op.Method, path)
			}
			switch {
			case strings.HasPrefix(path, ReviewPrefix):
				if p != PermReview {
					t.Errorf("%s %s: permission %q, want review", op.Method, path, p)
				}
			case strings.Contains(path, "/servers") && p != PermRead:
				t.Errorf("%s %s: permission %q, want read", op.Method, path, p)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d operations", n)
	}
}

// A huma middleware (authorization) runs on both paths and can refuse.
func TestHumaMiddlewareGuardsFastPath(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0")
	var seen []Permission
	deny := false
	mw := func(ctx huma.Context, next func(huma.Context)) {
		p, _ := OperationPermission(ctx.Operation())
		seen = append(seen, p)
		if deny {
			ctx.SetStatus(http.StatusUnauthorized)
			return
		}
		next(ctx)
	}
	h := newServer(t, st, WithHumaMiddleware(mw))
	path := "/v0.1/servers/io.github.acme%2Fweather/versions/latest"
	if r := get(t, h, path); r.code != 200 { // miss: huma
		t.Fatalf("= %d", r.code)
	}
	if r := get(t, h, path); r.code != 200 { // hit: fast path
		t.Fatalf("= %d", r.code)
	}
	deny = true
	if r := get(t, h, path); r.code != http.StatusUnauthorized || r.body != "" {
		t.Fatalf("denied request served: %d %q", r.code, r.body)
	}
	if len(seen) != 3 || seen[0] != PermRead || seen[2] != PermRead {
		t.Errorf("middleware saw %v", seen)
	}
}

func TestHTTPMiddlewareWrapsEverything(t *testing.T) {
	st := newMemStore()
	calls := 0
	h := newServer(t, st, WithHTTPMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			w.Header().Set("X-Test", "1")
			next.ServeHTTP(w, r.WithContext(r.Context())) // a copied request keeps the route label
		})
	}))
	for _, p := range []string{"/v0.1/servers", "/v0.1/servers", "/healthz", "/metrics"} {
		if r := get(t, h, p); r.hdr.Get("X-Test") != "1" {
			t.Errorf("%s not wrapped", p)
		}
	}
	if calls != 4 {
		t.Errorf("calls = %d", calls)
	}
	m := get(t, h, "/metrics").body
	if !strings.Contains(m, `vetted_http_requests_total{code="200",route="GET /v0.1/servers"} 2`) {
		t.Errorf("route label lost through middleware:\n%s", grepLines(m, "vetted_http_requests_total"))
	}
}

func TestHealthAndMetrics(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0")
	h := newServer(t, st)
	if r := get(t, h, "/healthz"); r.code != 200 || !strings.Contains(r.body, `"ok"`) {
		t.Errorf("healthz = %d %s", r.code, r.body)
	}
	if r := get(t, h, "/readyz"); r.code != 200 {
		t.Errorf("readyz = %d %s", r.code, r.body)
	}
	for i := 0; i < 3; i++ {
		get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/latest")
	}
	get(t, h, "/v0.1/servers/io.github.acme%2Fnope/versions/latest")
	get(t, h, "/nowhere")
	m := get(t, h, "/metrics")
	for _, want := range []string{
		`vetted_http_requests_total{code="200",route="GET /v0.1/servers/{serverName}/versions/{version}"} 3`,
		`vetted_http_requests_total{code="404",route="GET /v0.1/servers/{serverName}/versions/{version}"} 1`,
		`vetted_http_requests_total{code="404",route="unmatched"} 1`,
		`vetted_http_request_duration_seconds_bucket{code="200",route="GET /v0.1/servers/{serverName}/versions/{version}",le="+Inf"} 3`,
	} {
		if !strings.Contains(m.body, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(m.body, "vetted_http_requests_total"))
		}
	}
}

func TestDocsAndOpenAPIServed(t *testing.T) {
	h := newServer(t, newMemStore())
	for _, c := range []struct{ path, want string }{
		{"/openapi.json", `"openapi":"3.1.0"`},
		{"/openapi.yaml", "openapi: 3.1.0"},
		{"/docs", "<html"},
	} {
		r := get(t, h, c.path)
		if r.code != 200 || !strings.Contains(r.body, c.want) {
			t.Errorf("GET %s = %d, lacks %q", c.path, r.code, c.want)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
