package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

const testPermKey = "test/permission"

func testPermOf(op *huma.Operation) (Permission, bool, bool) {
	if op == nil || op.Metadata == nil {
		return "", false, false
	}
	p, ok := op.Metadata[testPermKey].(string)
	if p == "none" {
		return "", true, true
	}
	return Permission(p), false, ok
}

// A huma API with operations declaring permissions, behind Service.Middleware.
func TestHumaMiddleware(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("t", "1"))
	api.UseMiddleware(HumaMiddleware(testPermOf))
	var writes atomic.Int64
	type out struct {
		Body struct {
			OK bool `json:"ok"`
		}
	}
	type pubIn struct {
		Body struct {
			Name string `json:"name"`
		}
	}
	huma.Register(api, huma.Operation{OperationID: "list", Method: "GET", Path: "/v0.1/servers", Metadata: map[string]any{testPermKey: "read"}},
		func(ctx context.Context, _ *struct{}) (*out, error) { return &out{}, nil })
	huma.Register(api, huma.Operation{OperationID: "health", Method: "GET", Path: "/healthz", Metadata: map[string]any{testPermKey: "none"}},
		func(ctx context.Context, _ *struct{}) (*out, error) { return &out{}, nil })
	huma.Register(api, huma.Operation{OperationID: "undeclared", Method: "GET", Path: "/secret"},
		func(ctx context.Context, _ *struct{}) (*out, error) { return &out{}, nil })
	huma.Register(api, huma.Operation{OperationID: "publish", Method: "POST", Path: "/v0.1/publish", MaxBodyBytes: 512, Metadata: map[string]any{testPermKey: "publish"}},
		func(ctx context.Context, in *pubIn) (*out, error) {
			if err := Require(ctx, PermPublish, in.Body.Name); err != nil {
				return nil, err
			}
			writes.Add(1)
			return &out{}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "approve", Method: "POST", Path: "/v0.1/x/review/approve", Metadata: map[string]any{testPermKey: "review"}},
		func(ctx context.Context, _ *struct{}) (*out, error) { writes.Add(1); return &out{}, nil })
	srv := httptest.NewServer(h.svc.Middleware(mux))
	defer srv.Close()
	h.srv = srv

	pub := sign(t, h.k1, h.claims())
	nobody := sign(t, h.k1, h.claims().with("repository_owner", "someone"))
	tests := []struct {
		name, method, path, token, body string
		status                          int
		reason                          string
		written                         bool
	}{
		{"anonymous read", "GET", "/v0.1/servers", "", "", 200, "", false},
		{"public op", "GET", "/healthz", "", "", 200, "", false},
		{"undeclared op is denied", "GET", "/secret", pub, "", 403, "unknown permission", false},
		{"publisher publishes", "POST", "/v0.1/publish", pub, publishBody("io.github.acme/x"), 200, "", true},
		{"publisher outside its namespace", "POST", "/v0.1/publish", pub, publishBody("io.github.acme-evil/x"), 403, "not in the caller's namespaces", false},
		{"no publisher role, stopped before the handler", "POST", "/v0.1/publish", nobody, publishBody("io.github.acme/x"), 403, "none of the caller's roles", false},
		{"anonymous publish", "POST", "/v0.1/publish", "", publishBody("io.github.acme/x"), 401, "authentication required", false},
		{"publisher calls a reviewer operation", "POST", "/v0.1/x/review/approve", pub, "", 403, "none of the caller's roles [publisher]", false},
		{"huma's body limit", "POST", "/v0.1/publish", pub, publishBody("io.github.acme/" + strings.Repeat("a", 600)), 413, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := writes.Load()
			r := h.do(t, tc.method, tc.path, tc.token, tc.body, func(r *http.Request) {
				if tc.body != "" {
					r.Header.Set("Content-Type", "application/json")
				}
			})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if (writes.Load() != before) != tc.written {
				t.Fatalf("written %v, want %v", writes.Load() != before, tc.written)
			}
			if tc.reason != "" && !strings.Contains(r.problem.Reason, tc.reason) {
				t.Fatalf("problem %+v, want reason %q", r.problem, tc.reason)
			}
			if tc.status == 401 && !strings.Contains(r.header.Get("WWW-Authenticate"), "resource_metadata=") {
				t.Fatalf("401 without challenge")
			}
		})
	}

	DeclareSecurity(api.OpenAPI(), testPermOf)
	oapi := api.OpenAPI()
	if oapi.Components.SecuritySchemes[SecuritySchemeName].Scheme != "bearer" {
		t.Fatal("no bearer scheme")
	}
	if s := oapi.Paths["/v0.1/publish"].Post.Security; len(s) != 1 {
		t.Fatalf("publish security %v", s)
	}
	if s := oapi.Paths["/v0.1/servers"].Get.Security; len(s) != 2 || len(s[1]) != 0 {
		t.Fatalf("read security %v (want bearer or anonymous)", s)
	}
	if s := oapi.Paths["/healthz"].Get.Security; s != nil {
		t.Fatalf("public op security %v", s)
	}
	b, _ := oapi.YAML()
	if !strings.Contains(string(b), "x-vetted-permission: publish") {
		t.Fatalf("no permission extension in\n%s", b)
	}
}
