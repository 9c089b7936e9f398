package registry

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const okServer = `{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
 "name":"io.github.acme/weather","description":"Weather","version":"1.0.0",
 "repository":{"url":"https://github.com/acme/weather","source":"github"},
 "packages":[{"registryType":"oci","identifier":"ghcr.io/acme/weather:1.0.0","transport":{"type":"stdio"}}]}`

func TestParseServerJSON(t *testing.T) {
	d, err := ParseServerJSON([]byte(okServer))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "io.github.acme/weather" || d.Version != "1.0.0" || d.RepositoryURL != "https://github.com/acme/weather" ||
		len(d.Packages) != 1 || d.Packages[0].Identifier != "ghcr.io/acme/weather:1.0.0" {
		t.Fatalf("%+v", d)
	}
}

func TestParseServerJSONRejects(t *testing.T) {
	repl := func(old, new string) string { return strings.Replace(okServer, old, new, 1) }
	for _, tc := range []struct {
		name, in, field, reason string
	}{
		{"not json", `{"name":`, "name", "invalid JSON"},
		{"array", `[]`, "body", "expected an object, got an array"},
		{"trailing", okServer + `{}`, "body", "trailing data"},
		{"duplicate key", repl(`"version":"1.0.0"`, `"version":"1.0.0","version":"2.0.0"`), "version", `duplicate key`},
		{"nested duplicate", repl(`"source":"github"`, `"source":"github","url":"x"`), "repository.url", `duplicate key`},
		{"no name", repl(`"name":"io.github.acme/weather",`, ``), "name", "required"},
		{"bad name", repl(`io.github.acme/weather`, `acme weather`), "name", "pattern"},
		{"two slashes", repl(`io.github.acme/weather`, `io.github.acme/w/x`), "name", "pattern"},
		{"no version", repl(`"version":"1.0.0",`, ``), "version", "required"},
		{"latest", repl(`"version":"1.0.0"`, `"version":"latest"`), "version", "reserved"},
		{"caret range", repl(`"version":"1.0.0"`, `"version":"^1.0.0"`), "version", "range"},
		{"x range", repl(`"version":"1.0.0"`, `"version":"1.x"`), "version", "range"},
		{"star", repl(`"version":"1.0.0"`, `"version":"1.0.*"`), "version", "range"},
		{"or range", repl(`"version":"1.0.0"`, `"version":"1.0.0 || 2.0.0"`), "version", "range"},
		{"package without identifier", repl(`"identifier":"ghcr.io/acme/weather:1.0.0",`, ``), "packages[0].identifier", "required"},
		{"no description", repl(`"description":"Weather",`, ``), "description", "required"},
		{"wrong type", repl(`"version":"1.0.0"`, `"version":1`), "version", "expected a string, got a number"},
		{"unknown key", repl(`"version":"1.0.0"`, `"version":"1.0.0","versions":["2"]`), "versions", "unknown key"},
		{"unknown nested key", repl(`"source":"github"`, `"source":"github","branch":"main"`), "repository.branch", "unknown key"},
		{"unknown _meta key", repl(`"version":"1.0.0"`, `"version":"1.0.0","_meta":{"dev.vetted/verification":{}}`), `_meta["dev.vetted/verification"]`, "unknown key"},
		{"not utf-8", "{\"name\":\"\xff\"}", "body", "UTF-8"},
		{"nothing to run", repl(`"packages":[{"registryType":"oci","identifier":"ghcr.io/acme/weather:1.0.0","transport":{"type":"stdio"}}]`, `"packages":[]`), "packages", "at least one"},
		{"deep", `{"_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"a":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}}}`,
			`_meta["io.modelcontextprotocol.registry/publisher-provided"].a` + strings.Repeat("[0]", 61), "nested deeper than 64 levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseServerJSON([]byte(tc.in))
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("want *FieldError, got %v", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("got %s: %s; want %s: …%s…", fe.Field, fe.Reason, tc.field, tc.reason)
			}
		})
	}
	for _, ok := range []string{"1.0.0-fix", "2026.11.25", "v1.2.3", "1.0.0+build.x"} {
		if _, err := ParseServerJSON([]byte(repl(`"version":"1.0.0"`, `"version":"`+ok+`"`))); err != nil {
			t.Errorf("version %q refused: %v", ok, err)
		}
	}
}

func TestContentDigestIgnoresFormatting(t *testing.T) {
	a, _ := CanonicalContentDigest([]byte(okServer))
	var m map[string]any
	json.Unmarshal([]byte(okServer), &m)
	re, _ := json.MarshalIndent(m, "", "    ")
	b, _ := CanonicalContentDigest(re)
	if a != b || !ValidDigest(a) {
		t.Fatalf("%s != %s", a, b)
	}
	c, _ := CanonicalContentDigest([]byte(strings.Replace(okServer, "Weather", "Weather!", 1)))
	if c == a {
		t.Fatal("different content, same digest")
	}
}

func TestPinServer(t *testing.T) {
	d, err := ParseServerJSON([]byte(okServer))
	if err != nil {
		t.Fatal(err)
	}
	out, err := PinServer(d.Server, map[int]string{0: "ghcr.io/acme/weather@sha256:" + strings.Repeat("a", 64)})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Packages []struct{ Identifier string } `json:"packages"`
		Schema   string                        `json:"$schema"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m.Packages[0].Identifier != "ghcr.io/acme/weather@sha256:"+strings.Repeat("a", 64) || m.Schema == "" {
		t.Fatalf("%s", out)
	}
}

func FuzzParseServerJSON(f *testing.F) {
	f.Add([]byte(okServer))
	f.Add([]byte(`{"name":"a/b","version":"1","remotes":[{}]}`))
	f.Add([]byte(`{"a":{"a":1,"a":2}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseServerJSON(b)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *FieldError: %v", err)
			}
			return
		}
		if d.Name == "" || d.Version == "" {
			t.Fatalf("accepted without name/version: %q", b)
		}
		if _, err := CanonicalContentDigest(b); err != nil {
			t.Fatalf("accepted but not canonicalizable: %v", err)
		}
		pins := map[int]string{}
		if len(d.Packages) > 0 {
			pins[0] = "x@sha256:00"
		}
		served, err := PinServer(d.Server, pins)
		if err != nil {
			t.Fatalf("accepted but not pinnable: %v", err)
		}
		if _, err := ParseServerJSON(served); err != nil {
			t.Fatalf("served form refused by the decoder: %v\n%s", err, served)
		}
	})
}
