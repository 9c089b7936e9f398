package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/vetted-dev/vetted/registry"
)

// The conformance test: every read response Vetted produces — empty, seeded, published by
// the pipeline, with include_deleted and updated_since — validates against the component
// schemas of the official registry's OpenAPI document, docs/reference/api/openapi.yaml of
// the module version go.mod pins, read from the module cache at test time (never copied
// into this repository), with a JSON Schema 2020-12 validator.

const officialModule = "github.com/modelcontextprotocol/registry"

// officialSchemas compiles the ServerList and ServerResponse component schemas of the
// official OpenAPI document.
func officialSchemas(t *testing.T) (list, one *jsonschema.Schema) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", officialModule).Output()
	if err != nil {
		t.Fatalf("locate %s in the module cache: %v", officialModule, err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "docs", "reference", "api", "openapi.yaml")
	y, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the official OpenAPI document: %v", err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		t.Fatalf("%s: not an object", path)
	}
	// The document's own $id names the OpenAPI document, not a schema; the component
	// schemas' "#/components/schemas/…" references resolve within the resource added here.
	delete(m, "$id")
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	const base = "urn:official:openapi.json"
	if err := c.AddResource(base, m); err != nil {
		t.Fatal(err)
	}
	compile := func(name string) *jsonschema.Schema {
		s, err := c.Compile(base + "#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("compile the official %s schema: %v", name, err)
		}
		return s
	}
	return compile("ServerList"), compile("ServerResponse")
}

func conforms(t *testing.T, s *jsonschema.Schema, what, body string) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", what, err, body)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not conform to the official schema: %v\n%s", what, err, body)
	}
}

func TestReadResponsesConformToTheOfficialSchema(t *testing.T) {
	list, one := officialSchemas(t)

	// The validator is real: a response missing what the schema requires fails.
	if err := one.Validate(map[string]any{"server": map[string]any{"name": "io.github.acme/x"}}); err == nil {
		t.Fatal("the official ServerResponse schema accepted a server without description and version")
	}
	if err := list.Validate(map[string]any{"servers": []any{map[string]any{"server": "x"}}}); err == nil {
		t.Fatal("the official ServerList schema accepted a list whose entry is not a ServerResponse")
	}

	check := func(t *testing.T, h http.Handler, paths ...string) int {
		t.Helper()
		n := 0
		for _, p := range paths {
			r := get(t, h, p)
			if r.code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", p, r.code, r.body)
			}
			s := one
			if strings.HasSuffix(strings.SplitN(p, "?", 2)[0], "/versions") || strings.HasSuffix(strings.SplitN(p, "?", 2)[0], "/servers") {
				s = list
			}
			conforms(t, s, "GET "+p, r.body)
			n++
		}
		return n
	}

	t.Run("empty", func(t *testing.T) {
		h := newServer(t, openSQLite(t))
		check(t, h, "/v0.1/servers", "/v0/servers", "/v0.1/servers?include_deleted=true", "/v0.1/servers?updated_since=2020-01-01T00:00:00Z")
	})

	t.Run("seeded", func(t *testing.T) {
		st := openSQLite(t)
		seed(t, st, "io.github.acme/weather@1.0.0", "io.github.acme/weather@2.0.0", "io.github.acme/tides@nightly",
			"com.example/Search-Tool@0.1.0", "io.github.acme/weather@3.0.0:pending_review")
		at := t0.Add(time.Hour)
		if _, err := st.SetStatus(context.Background(), keyOf("io.github.acme/tides", "nightly"), registry.StatusDeprecated, at); err != nil {
			t.Fatal(err)
		}
		d, err := registry.NewDesk(st.(registry.DeskStore), registry.WithDeskClock(func() time.Time { return at }))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Quarantine(context.Background(), registry.Action{Key: keyOf("io.github.acme/weather", "2.0.0"), Actor: "iss|a", Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		h := newServer(t, st, WithChangeCheckInterval(time.Nanosecond))
		n := check(t, h,
			"/v0.1/servers", "/v0.1/servers?limit=1", "/v0.1/servers?version=latest", "/v0.1/servers?search=weather",
			"/v0.1/servers?include_deleted=true", "/v0.1/servers?updated_since="+at.Add(-time.Minute).Format(time.RFC3339),
			"/v0/servers?include_deleted=true&limit=2",
			"/v0.1/servers/io.github.acme%2Fweather/versions", "/v0.1/servers/io.github.acme%2Fweather/versions?include_deleted=true",
			"/v0.1/servers/io.github.acme%2Ftides/versions?include_deleted=true",
			"/v0.1/servers/io.github.acme%2Fweather/versions/latest", "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0",
			"/v0.1/servers/io.github.acme%2Fweather/versions/2.0.0?include_deleted=true",
			"/v0/servers/io.github.acme%2Ftides/versions/nightly?include_deleted=true",
		)
		// The deleted and deprecated entries are really in what was validated.
		r := get(t, h, "/v0.1/servers?include_deleted=true")
		if !strings.Contains(r.body, `"status":"deleted"`) || !strings.Contains(r.body, `"status":"deprecated"`) || n < 14 {
			t.Fatalf("include_deleted lacks a deleted or deprecated entry: %s", r.body)
		}
	})

	t.Run("published by the pipeline", func(t *testing.T) {
		srv, _ := newPublishServer(t)
		h := srv.Handler()
		if r := post(t, h, "/v0.1/publish", pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/w:1")); r.code != http.StatusOK {
			t.Fatalf("publish: %d %s", r.code, r.body)
		}
		var pr PublishResponse
		r := post(t, h, "/v0/publish", pubBody("io.github.acme/weather", "1.0.1", "ghcr.io/acme/w:1"))
		if r.code != http.StatusOK || json.Unmarshal([]byte(r.body), &pr) != nil || pr.Meta.Publish.Decision != "published" {
			t.Fatalf("publish 1.0.1: %d %s", r.code, r.body)
		}
		// The publish answer itself is a ServerResponse as upstream's publish returns one.
		conforms(t, one, "POST /v0/publish", r.body)
		check(t, h, "/v0.1/servers", "/v0.1/servers/io.github.acme%2Fweather/versions",
			"/v0.1/servers/io.github.acme%2Fweather/versions/latest", "/v0/servers/io.github.acme%2Fweather/versions/1.0.0")
		body := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/latest").body
		if !strings.Contains(body, `"dev.vetted/verification"`) {
			t.Fatalf("the pipeline's _meta is not in what was validated: %s", body)
		}
	})
}
