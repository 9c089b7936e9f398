package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func serverJSON(name, version string) []byte {
	return []byte(fmt.Sprintf(`{
  "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
  "name": %q,
  "description": "An MCP server for tests",
  "version": %q,
  "packages": [{"registryType": "oci", "identifier": "ghcr.io/acme/weather:%s", "transport": {"type": "stdio"}}],
  "_meta": {"io.modelcontextprotocol.registry/publisher-provided": {"tool": "test"}}
}`, name, version, version))
}

// seed records versions in st; each entry is "name@version[:status]", published one minute
// apart in order.
func seed(t testing.TB, st registry.Store, specs ...string) {
	t.Helper()
	for i, spec := range specs {
		nv, status, _ := strings.Cut(spec, ":")
		name, version, _ := strings.Cut(nv, "@")
		if status == "" {
			status = string(registry.StatusPublished)
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		_, _, err := st.CreateVersion(context.Background(), registry.Version{
			Name: name, Version: version, Status: registry.Status(status),
			ServerJSON: serverJSON(name, version), PublishedAt: at, UpdatedAt: at,
		})
		if err != nil {
			t.Fatalf("seed %s: %v", spec, err)
		}
	}
}

func newServer(t testing.TB, st registry.Store, opts ...Option) *Server {
	t.Helper()
	s, err := New(st, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

type resp struct {
	code int
	hdr  http.Header
	body string
}

func get(t testing.TB, h http.Handler, target string, hdr ...string) resp {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return resp{code: w.Code, hdr: w.Result().Header, body: string(b)}
}

func decodeList(t testing.TB, body string) ServerList {
	t.Helper()
	var l ServerList
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("decode list: %v\n%s", err, body)
	}
	return l
}

func decodeOne(t testing.TB, body string) ServerResponse {
	t.Helper()
	var r ServerResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("decode version: %v\n%s", err, body)
	}
	return r
}

func names(l ServerList) []string {
	var out []string
	for _, s := range l.Servers {
		out = append(out, s.Server.Name+"@"+s.Server.Version)
	}
	return out
}

func keyOf(name, version string) registry.Key { return registry.Key{Name: name, Version: version} }

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// problemText is the detail of a problem document and the locations and messages of its
// errors, for asserting why a request failed.
func problemText(t testing.TB, body string) string {
	t.Helper()
	var p huma.ErrorModel
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("not a problem document: %v\n%s", err, body)
	}
	out := p.Detail
	for _, e := range p.Errors {
		out += "; " + e.Location + ": " + e.Message
	}
	return out
}
